//! Media decoding for the vision module: on blocking threads, at most one per core at a time,
//! stopped between frames when its request is cancelled or its deadline passes.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

use mplug2_model::{
    ErrorKind, ModelError,
    preprocess::{Media, MediaError, PixelValues, Stop, StopReason},
};
use tokio::sync::Semaphore;

use super::Engine;
use crate::metrics::Metrics;

/// The decoding slots of one package and its stop counters.
pub(super) struct MediaDecoding {
    /// Bounds concurrent media decoding (CPU work on blocking threads) to the cores.
    slots: Arc<Semaphore>,
    dropped: DroppedDecodes,
}

impl MediaDecoding {
    pub(super) fn new(cores: usize, metrics: &Metrics, model: &str) -> MediaDecoding {
        MediaDecoding {
            slots: Arc::new(Semaphore::new(cores)),
            dropped: DroppedDecodes::new(metrics, model),
        }
    }
}

impl Engine {
    /// Decodes and resizes media on a blocking thread, at most one per core at a time; media
    /// whose deadline passed while it waited for a core is not decoded, and a video or frame
    /// list stops between frames once its request is cancelled (this future dropped) or its
    /// deadline passes: `mplug2_dropped_items_total{module="media_decode"}` counts each stop.
    pub(super) async fn preprocess(
        &self,
        media: Media,
        num_frames: Option<usize>,
        deadline: Instant,
    ) -> Result<PixelValues, ModelError> {
        let slot = Arc::clone(&self.media_decoding.slots)
            .acquire_owned()
            .await
            .map_err(|_| ModelError::Executor {
                kind: ErrorKind::Unavailable,
                message: "media decoding is shutting down".into(),
            })?;
        if Instant::now() >= deadline {
            return Err(ModelError::Executor {
                kind: ErrorKind::Timeout,
                message: "the request's deadline passed while it waited to decode its media".into(),
            });
        }
        let kind = media.kind();
        let started = Instant::now();
        let model = Arc::clone(&self.model);
        let cancel = CancelOnDrop::default();
        let stop = Stop::new(Arc::clone(&cancel.0), deadline);
        let dropped = self.media_decoding.dropped.clone();
        let pixels = tokio::task::spawn_blocking(move || {
            // The slot goes with the thread: a cancelled decode holds it until it stops.
            let _slot = slot;
            let pixels = model
                .preprocessor
                .prepare_frames_until(media, num_frames, &stop);
            // Counted here: when cancelled, nobody awaits this thread's result.
            if let Err(MediaError::Stopped { reason, .. }) = &pixels {
                dropped.count(*reason);
            }
            pixels
        })
        .await
        .map_err(|error| ModelError::Executor {
            kind: ErrorKind::Internal,
            message: format!("media decoding failed: {error}"),
        })?;
        self.metrics
            .preprocess_duration_seconds
            .with_label_values(&[kind, &self.info.name])
            .observe(started.elapsed().as_secs_f64());
        Ok(pixels?)
    }
}

/// Sets its flag when dropped: the blocking decode sees it between frames.
#[derive(Default)]
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// `mplug2_dropped_items_total{module="media_decode"}`, by reason.
#[derive(Clone)]
struct DroppedDecodes {
    cancelled: prometheus::IntCounter,
    expired: prometheus::IntCounter,
}

impl DroppedDecodes {
    fn new(metrics: &Metrics, model: &str) -> DroppedDecodes {
        let counter = |reason| {
            metrics
                .dropped_items_total
                .with_label_values(&["media_decode", reason, model])
        };
        DroppedDecodes {
            cancelled: counter("cancelled"),
            expired: counter("deadline"),
        }
    }

    fn count(&self, reason: StopReason) {
        match reason {
            StopReason::Cancelled => self.cancelled.inc(),
            StopReason::DeadlinePassed => self.expired.inc(),
        }
    }
}
