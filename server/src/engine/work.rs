//! One request's work: its deadline, and where its time adds up as its executor sends items to
//! the batchers (per module, queue and compute; and media preprocessing).

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use mplug2_model::tasks::Module;

use crate::scheduler::ItemTiming;
pub use crate::scheduler::Progress;

/// Queue and compute time of one request, per module (`Module::ALL` order).
#[derive(Debug, Default, Clone, Copy)]
pub struct RequestTiming {
    pub preprocess: Duration,
    pub modules: [ItemTiming; 5],
}

impl RequestTiming {
    /// Time the request's items waited in module queues, summed.
    pub fn queued(&self) -> Duration {
        self.modules.iter().map(|m| m.queued).sum()
    }

    /// Time the request's items spent in module runs, and preprocessing its media, summed.
    pub fn compute(&self) -> Duration {
        self.preprocess + self.modules.iter().map(|m| m.compute).sum::<Duration>()
    }
}

pub struct Work {
    pub deadline: Instant,
    /// Set when the request streams its answer.
    pub progress: Option<Progress>,
    timing: Mutex<RequestTiming>,
}

impl Work {
    pub fn new(deadline: Instant) -> Work {
        Work {
            deadline,
            progress: None,
            timing: Mutex::new(RequestTiming::default()),
        }
    }

    pub fn timing(&self) -> RequestTiming {
        self.timing.lock().map(|t| *t).unwrap_or_default()
    }

    pub(super) fn add_module(&self, module: Module, item: ItemTiming) {
        if let Ok(mut timing) = self.timing.lock() {
            let index = Module::ALL.iter().position(|m| *m == module).unwrap_or(0);
            let slot = &mut timing.modules[index];
            slot.queued += item.queued;
            slot.compute += item.compute;
        }
    }

    pub(super) fn add_preprocess(&self, took: Duration) {
        if let Ok(mut timing) = self.timing.lock() {
            timing.preprocess += took;
        }
    }
}
