//! The scheduler: one dynamic batcher per module, shared by every task, and the step-level
//! decoder batcher (continuous batching).

mod abandon;
mod arrivals;
mod batcher;
mod decoder;
mod decoder_step;
mod handle;
mod module_metrics;
mod pending;
mod plan;
mod queue_depth;

pub use abandon::Abandon;
pub use arrivals::{Arrivals, Expectation};
pub use batcher::{BatchFailure, BatchRunner, Batcher, BatcherSettings, ItemTiming};
pub use decoder::{DecoderBatcher, DecoderSettings, Progress};
pub use handle::{BatcherHandle, ScheduleError};
pub use module_metrics::ModuleMetrics;
pub use plan::{BatchLimits, CostRule};
pub use queue_depth::QueueDepth;

#[cfg(test)]
mod batcher_tests;
