//! Expected arrivals per module: how many admitted requests will still send work to a module.
//! A batcher waits for more items (up to the batch delay) only while this is above zero, which is
//! what keeps batching work-conserving: an idle module with nothing coming runs at once.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

/// The counter a module's batcher reads.
#[derive(Clone, Default, Debug)]
pub struct Arrivals(Arc<AtomicUsize>);

impl Arrivals {
    pub fn expected(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Registers one request that will use the module.
    pub fn expect(&self) -> Expectation {
        self.0.fetch_add(1, Ordering::SeqCst);
        Expectation {
            arrivals: self.clone(),
            pending: AtomicBool::new(true),
        }
    }
}

/// One request's pending arrival at one module; it counts until the request's first item
/// reaches the module, or until the request ends.
#[derive(Debug)]
pub struct Expectation {
    arrivals: Arrivals,
    pending: AtomicBool,
}

impl Expectation {
    /// The request's first item is being sent: it is no longer only expected.
    pub fn arrive(&self) {
        if self.pending.swap(false, Ordering::SeqCst) {
            self.arrivals.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for Expectation {
    fn drop(&mut self) {
        self.arrive();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_until_arrival_or_drop() {
        let arrivals = Arrivals::default();
        let first = arrivals.expect();
        let second = arrivals.expect();
        assert_eq!(arrivals.expected(), 2);
        first.arrive();
        first.arrive();
        assert_eq!(arrivals.expected(), 1);
        drop(first);
        assert_eq!(arrivals.expected(), 1);
        drop(second);
        assert_eq!(arrivals.expected(), 0);
    }
}
