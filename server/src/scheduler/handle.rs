//! The handle callers hold for a batcher thread, the same for every module batcher and the
//! decoder's: a bounded queue in front of the thread, and the module's expected arrivals.

use std::sync::mpsc;

use prometheus::IntGauge;

use super::arrivals::{Arrivals, Expectation};

/// Why an item got no output.
#[derive(Debug, Clone)]
pub enum ScheduleError<E> {
    /// Its deadline passed while it waited.
    DeadlinePassed,
    /// The batcher thread is gone (a bug: it outlives every request).
    Stopped,
    /// The module's queue already holds its limit of items (`--max-queue-items`).
    QueueFull { limit: usize },
    /// The batch it ran in failed.
    Failed(E),
}

pub struct BatcherHandle<J> {
    jobs: mpsc::Sender<J>,
    arrivals: Arrivals,
    queue_depth: IntGauge,
    max_queued: usize,
}

impl<J: Send + 'static> BatcherHandle<J> {
    /// Starts the thread `batcher-{name}`, which runs `serve` over the queue's receiving end and
    /// the module's arrivals; the thread ends when the last handle is dropped.
    pub(super) fn start(
        name: &str,
        queue_depth: IntGauge,
        max_queued: usize,
        serve: impl FnOnce(mpsc::Receiver<J>, Arrivals) + Send + 'static,
    ) -> std::io::Result<BatcherHandle<J>> {
        let (jobs, receiver) = mpsc::channel();
        let arrivals = Arrivals::default();
        let serving = arrivals.clone();
        std::thread::Builder::new()
            .name(format!("batcher-{name}"))
            .spawn(move || serve(receiver, serving))?;
        Ok(BatcherHandle {
            jobs,
            arrivals,
            queue_depth,
            max_queued,
        })
    }
}

impl<J> BatcherHandle<J> {
    /// Registers a request that will send items here, so the batcher may wait for it.
    pub fn expect(&self) -> Expectation {
        self.arrivals.expect()
    }

    /// The counter `expect` registers with.
    pub fn arrivals(&self) -> Arrivals {
        self.arrivals.clone()
    }

    /// Queues a job for the thread; a full queue refuses it at once.
    pub(super) fn send<E>(&self, job: J) -> Result<(), ScheduleError<E>> {
        // The gauge is the queue's length; concurrent callers may overshoot it by their number.
        if self.queue_depth.get() >= self.max_queued as i64 {
            return Err(ScheduleError::QueueFull {
                limit: self.max_queued,
            });
        }
        self.queue_depth.inc();
        if self.jobs.send(job).is_err() {
            self.queue_depth.dec();
            return Err(ScheduleError::Stopped);
        }
        Ok(())
    }
}
