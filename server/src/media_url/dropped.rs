//! `mplug2_dropped_items_total{module="media_fetch"}`: fetches whose request was cancelled while
//! they ran (the fetch future dropped) or whose request's deadline ended them. Fetches belong to
//! no package yet, so their `model` label is empty.

use prometheus::IntCounter;

use crate::metrics::Metrics;

#[derive(Debug, Clone)]
pub struct DroppedFetches {
    cancelled: IntCounter,
    expired: IntCounter,
}

impl DroppedFetches {
    pub fn new(metrics: &Metrics) -> DroppedFetches {
        let counter = |reason| {
            metrics
                .dropped_items_total
                .with_label_values(&["media_fetch", reason, ""])
        };
        DroppedFetches {
            cancelled: counter("cancelled"),
            expired: counter("deadline"),
        }
    }

    /// Watches one fetch: dropped before `ended`, it counts as cancelled.
    pub fn watch(&self) -> FetchWatch {
        FetchWatch {
            counters: Some(self.clone()),
        }
    }
}

/// Counts its fetch as cancelled when dropped before `ended` is called.
pub struct FetchWatch {
    counters: Option<DroppedFetches>,
}

impl FetchWatch {
    /// The fetch ended; `by_deadline` when the request's deadline ended it.
    pub fn ended(mut self, by_deadline: bool) {
        if let Some(counters) = self.counters.take()
            && by_deadline
        {
            counters.expired.inc();
        }
    }
}

impl Drop for FetchWatch {
    fn drop(&mut self) {
        if let Some(counters) = self.counters.take() {
            counters.cancelled.inc();
        }
    }
}
