//! The intake bound: how many task requests may be received or served at once, over both
//! protocols. It is checked before a body is read, so that many clients uploading at once cannot
//! hold more than `--max-pending-requests` × `--max-body-bytes` of bodies; beyond it a request is
//! refused at once (429 / RESOURCE_EXHAUSTED with Retry-After). Admission (`admission.rs`) then
//! bounds the requests that run. The protocol layers take the slot before they read a body.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Held while a request is received and served.
pub type IntakeSlot = OwnedSemaphorePermit;

pub struct Intake {
    slots: Arc<Semaphore>,
    limit: u32,
    retry_after_s: u64,
}

impl Intake {
    pub fn new(limit: u32, retry_after_s: u64) -> Intake {
        Intake {
            slots: Arc::new(Semaphore::new(limit as usize)),
            limit,
            retry_after_s,
        }
    }

    /// A slot held while the request is received and served.
    pub fn enter(&self) -> Result<IntakeSlot, ApiError> {
        Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| ApiError::Overloaded {
                message: format!(
                    "{limit} requests are being received or served, the limit \
                     (--max-pending-requests) is {limit}",
                    limit = self.limit
                ),
                retry_after_s: self.retry_after_s,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_beyond_the_limit_and_frees_slots() {
        let intake = Intake::new(2, 5);
        let first = intake.enter().unwrap();
        let _second = intake.enter().unwrap();
        let error = intake.enter().unwrap_err();
        assert_eq!(error.type_name(), "overloaded");
        assert!(error.to_string().contains("--max-pending-requests) is 2"));
        drop(first);
        assert!(intake.enter().is_ok());
    }
}
