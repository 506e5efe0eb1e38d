//! A module queue's length, held against `--max-queue-items`: senders reserve a place with one
//! compare-and-swap, so any number of simultaneous senders never hold more places than the bound
//! together; the batcher thread releases places as items leave the queue. The
//! `mplug2_queue_depth` gauge mirrors it.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use prometheus::IntGauge;

#[derive(Clone)]
pub struct QueueDepth {
    held: Arc<AtomicUsize>,
    gauge: IntGauge,
}

impl QueueDepth {
    pub fn new(gauge: IntGauge) -> QueueDepth {
        QueueDepth {
            held: Arc::new(AtomicUsize::new(0)),
            gauge,
        }
    }

    /// Takes a place when fewer than `bound` are held; false when the queue is full.
    pub fn try_reserve(&self, bound: usize) -> bool {
        let reserved = self
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held < bound).then_some(held + 1)
            })
            .is_ok();
        if reserved {
            self.gauge.inc();
        }
        reserved
    }

    /// Gives back `places` taken by `try_reserve` (items that left the queue).
    pub fn release(&self, places: usize) {
        self.held.fetch_sub(places, Ordering::AcqRel);
        self.gauge.sub(places as i64);
    }

    /// Places held now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;

    use super::*;

    #[test]
    fn simultaneous_senders_never_hold_more_than_the_bound() {
        const SENDERS: usize = 32;
        const BOUND: usize = 5;
        for _ in 0..20 {
            let gauge = IntGauge::new("depth", "test").unwrap();
            let depth = QueueDepth::new(gauge.clone());
            let barrier = Arc::new(Barrier::new(SENDERS));
            let senders: Vec<_> = (0..SENDERS)
                .map(|_| {
                    let (depth, barrier) = (depth.clone(), Arc::clone(&barrier));
                    std::thread::spawn(move || {
                        barrier.wait();
                        depth.try_reserve(BOUND)
                    })
                })
                .collect();
            let reserved = senders
                .into_iter()
                .map(|sender| sender.join().unwrap())
                .filter(|&reserved| reserved)
                .count();
            assert_eq!(reserved, BOUND);
            assert_eq!((depth.held(), gauge.get()), (BOUND, BOUND as i64));
            depth.release(2);
            assert!(depth.try_reserve(BOUND) && depth.try_reserve(BOUND));
            assert!(!depth.try_reserve(BOUND));
        }
    }
}
