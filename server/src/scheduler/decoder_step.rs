//! One decoder step with its failures isolated per request. Each request's decoding state (its
//! search, its self-attention cache) is its own, and a failed `decoder_step` run changes none of
//! them (the model crate takes outputs only from a successful run), so a run that fails for a
//! batch of several requests is run again for each half of it, recursively, until the failing
//! request runs alone: only it fails, the others advance by their step as if nothing happened. A
//! request whose own logits its search refuses (NaN) fails alone without a second run. A panic
//! leaves the state of its part unknown: that part's requests fail.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
    time::Instant,
};

use mplug2_model::{ErrorKind, ModelError, decode::DecodeBatch, modules::Decoder};

use super::module_metrics::ModuleMetrics;

/// A failed request's error, shared by every request that failed with it.
pub(super) type SharedError = Arc<ModelError>;

/// Runs one step for every member of `batch` and returns the members that failed, with why.
/// The members that did not fail advanced by one step; the batch keeps them all.
pub(super) fn step_isolated(
    decoder: &Decoder,
    batch: &mut DecodeBatch,
    metrics: &ModuleMetrics,
) -> Vec<(u64, SharedError)> {
    let mut failed = Vec::new();
    run_part(decoder, batch, metrics, &mut failed);
    failed
}

fn run_part(
    decoder: &Decoder,
    part: &mut DecodeBatch,
    metrics: &ModuleMetrics,
    failed: &mut Vec<(u64, SharedError)>,
) {
    let size = part.len();
    let started = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| decoder.step_each(part)));
    metrics.executed(size, started.elapsed());
    match outcome {
        Ok(Ok(members)) => failed.extend(members.into_iter().filter_map(|(id, outcome)| {
            outcome
                .err()
                .map(|error| (id, Arc::new(ModelError::from(error))))
        })),
        Ok(Err(error)) if size > 1 => {
            tracing::warn!(
                requests = size,
                %error,
                "a decoder step failed; running it again in halves to isolate the bad request"
            );
            metrics.split();
            let mut second = part.split_off(size / 2);
            run_part(decoder, part, metrics, failed);
            run_part(decoder, &mut second, metrics, failed);
            part.append(second);
        }
        Ok(Err(error)) => {
            let error = Arc::new(error);
            failed.extend(part.ids().map(|id| (id, Arc::clone(&error))));
        }
        Err(_) => {
            let error = internal("the decoder step panicked");
            failed.extend(part.ids().map(|id| (id, Arc::clone(&error))));
        }
    }
}

pub(super) fn internal(message: &str) -> SharedError {
    Arc::new(model_internal(message))
}

pub(super) fn model_internal(message: &str) -> ModelError {
    ModelError::Executor {
        kind: ErrorKind::Internal,
        message: message.to_owned(),
    }
}
