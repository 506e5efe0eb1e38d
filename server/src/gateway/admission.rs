//! Admission control, in one place for both protocols: a request is admitted only while the
//! server is ready and fewer than `--max-concurrent-requests` are in flight; otherwise it is
//! refused at once (503 or 429 with Retry-After), never queued without bound.

use std::{sync::Arc, time::Duration};

use prometheus::IntGauge;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{error::ApiError, health::Health};

pub struct Admission {
    slots: Arc<Semaphore>,
    limit: u32,
    retry_after_s: u64,
    health: Arc<Health>,
    inflight: IntGauge,
}

/// Held for as long as an admitted request runs; frees its slot when dropped.
pub struct Permit {
    _slot: OwnedSemaphorePermit,
    inflight: IntGauge,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.inflight.dec();
    }
}

impl Admission {
    pub fn new(
        limit: u32,
        retry_after_s: u64,
        health: Arc<Health>,
        inflight: IntGauge,
    ) -> Admission {
        Admission {
            slots: Arc::new(Semaphore::new(limit as usize)),
            limit,
            retry_after_s,
            health,
            inflight,
        }
    }

    pub fn admit(&self) -> Result<Permit, ApiError> {
        self.health.check_accepting()?;
        match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(slot) => {
                self.inflight.inc();
                Ok(Permit {
                    _slot: slot,
                    inflight: self.inflight.clone(),
                })
            }
            Err(_) => {
                // Shutdown may have begun between the check above and here.
                self.health.check_accepting()?;
                Err(ApiError::Overloaded {
                    message: format!(
                        "{} requests are in flight, the limit (--max-concurrent-requests) is {}",
                        self.in_flight(),
                        self.limit
                    ),
                    retry_after_s: self.retry_after_s,
                })
            }
        }
    }

    pub fn in_flight(&self) -> u32 {
        self.limit - self.slots.available_permits() as u32
    }

    /// Waits until no request is in flight, at most `grace`. True when everything finished.
    pub async fn drained(&self, grace: Duration) -> bool {
        tokio::time::timeout(grace, self.slots.acquire_many(self.limit))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}
