//! Jobs waiting in a batcher's queue, and the sweep that drops the dead ones before a batch (or
//! a decoder step) forms.

use std::{collections::VecDeque, time::Instant};

use super::module_metrics::ModuleMetrics;

/// A job waiting in a batcher's queue.
pub(super) trait Pending {
    fn deadline(&self) -> Instant;
    /// Its caller is gone.
    fn is_cancelled(&self) -> bool;
    /// Answers the caller that the deadline passed.
    fn expire(self);
}

/// Removes the jobs whose deadline passed (answered so) or whose caller left, counting each in
/// `mplug2_dropped_items_total` and taking it off the queue depth.
pub(super) fn drop_dead<J: Pending>(
    queue: &mut VecDeque<J>,
    now: Instant,
    metrics: &ModuleMetrics,
) {
    let mut alive = VecDeque::with_capacity(queue.len());
    for job in std::mem::take(queue) {
        // A passed deadline counts as such even when the caller has already given up on it.
        if job.deadline() <= now {
            metrics.dropped_expired();
            job.expire();
        } else if job.is_cancelled() {
            metrics.dropped_cancelled();
        } else {
            alive.push_back(job);
            continue;
        }
        metrics.queue_depth.dec();
    }
    *queue = alive;
}
