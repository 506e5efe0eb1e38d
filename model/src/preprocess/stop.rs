//! Asked between frames whether a media decode should go on: its request may have been
//! cancelled (the caller is gone) or its deadline passed while the decode ran on its thread.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

use super::MediaError;

/// Why a decode stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    Cancelled,
    DeadlinePassed,
}

/// A cancellation flag and a deadline, checked between frames (cheap: one atomic load and one
/// clock read). `Stop::never()` never stops.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    cancelled: Option<Arc<AtomicBool>>,
    deadline: Option<Instant>,
}

impl Stop {
    pub fn never() -> Stop {
        Stop::default()
    }

    /// Stops once `cancelled` is set or at `deadline`.
    pub fn new(cancelled: Arc<AtomicBool>, deadline: Instant) -> Stop {
        Stop {
            cancelled: Some(cancelled),
            deadline: Some(deadline),
        }
    }

    /// Why to stop now, if so. The deadline is asked first: a request dropped because its
    /// deadline passed also sets the flag, and is counted as expired, not cancelled.
    pub fn reason(&self) -> Option<StopReason> {
        if self
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            return Some(StopReason::DeadlinePassed);
        }
        self.cancelled
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
            .then_some(StopReason::Cancelled)
    }

    /// `MediaError::Stopped` when the decode should not go on; `decoded` is the frames it had
    /// decoded so far (reported, so that a test can see it stopped part-way).
    pub fn check(&self, decoded: usize) -> Result<(), MediaError> {
        match self.reason() {
            Some(reason) => Err(MediaError::Stopped { reason, decoded }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn stops_on_the_flag_or_the_deadline_and_never_otherwise() {
        assert_eq!(Stop::never().reason(), None);
        let flag = Arc::new(AtomicBool::new(false));
        let later = Instant::now() + Duration::from_secs(3600);
        let stop = Stop::new(Arc::clone(&flag), later);
        assert!(stop.check(0).is_ok());
        flag.store(true, Ordering::Relaxed);
        assert!(matches!(
            stop.check(7),
            Err(MediaError::Stopped {
                reason: StopReason::Cancelled,
                decoded: 7
            })
        ));
        let passed = Stop::new(Arc::new(AtomicBool::new(false)), Instant::now());
        assert_eq!(passed.reason(), Some(StopReason::DeadlinePassed));
    }
}
