//! The metrics of one module, bound to its `module` label once.

use std::time::Duration;

use prometheus::{Histogram, IntCounter, IntGauge};

use crate::metrics::Metrics;

#[derive(Clone)]
pub struct ModuleMetrics {
    queue_duration: Histogram,
    module_duration: Histogram,
    batch_size: Histogram,
    pub queue_depth: IntGauge,
    executions: IntCounter,
    items: IntCounter,
    cancelled: IntCounter,
    expired: IntCounter,
    splits: IntCounter,
}

impl ModuleMetrics {
    /// The series of `module` of the package `model`.
    pub fn new(metrics: &Metrics, module: &str, model: &str) -> ModuleMetrics {
        let labels = [module, model];
        ModuleMetrics {
            queue_duration: metrics.queue_duration_seconds.with_label_values(&labels),
            module_duration: metrics.module_duration_seconds.with_label_values(&labels),
            batch_size: metrics.batch_size.with_label_values(&labels),
            queue_depth: metrics.queue_depth.with_label_values(&labels),
            executions: metrics.module_executions_total.with_label_values(&labels),
            items: metrics.module_items_total.with_label_values(&labels),
            cancelled: metrics
                .dropped_items_total
                .with_label_values(&[module, "cancelled", model]),
            expired: metrics
                .dropped_items_total
                .with_label_values(&[module, "deadline", model]),
            splits: metrics.batch_splits_total.with_label_values(&labels),
        }
    }

    pub fn queued(&self, waited: Duration) {
        self.queue_duration.observe(waited.as_secs_f64());
    }

    pub fn executed(&self, items: usize, took: Duration) {
        self.module_duration.observe(took.as_secs_f64());
        self.batch_size.observe(items as f64);
        self.executions.inc();
        self.items.inc_by(items as u64);
    }

    /// The decoder's cross K/V projection for joining requests: module time, not a step (so it
    /// counts in neither executions, items nor batch sizes).
    pub fn projected(&self, took: Duration) {
        self.module_duration.observe(took.as_secs_f64());
    }

    pub fn dropped_cancelled(&self) {
        self.cancelled.inc();
    }

    pub fn dropped_expired(&self) {
        self.expired.inc();
    }

    /// A failed batch is run again in halves.
    pub fn split(&self) {
        self.splits.inc();
    }
}
