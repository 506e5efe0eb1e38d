//! Liveness and readiness. The process is live as soon as it listens; it is ready only once every
//! module is loaded and warmed, and stops being ready when it starts draining for shutdown.
//! The same state drives `/health/ready`, `grpc.health.v1` and the `mplug2_ready` gauge.

use std::sync::atomic::{AtomicBool, Ordering};

use prometheus::IntGauge;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::error::ApiError;

/// The gRPC service name whose health is reported besides the overall "" entry.
pub const INFERENCE_SERVICE: &str = "mplug2.v1.Inference";

pub struct Health {
    warmed: AtomicBool,
    draining: AtomicBool,
    grpc: HealthReporter,
    gauge: IntGauge,
}

impl Health {
    /// Starts not ready: both gRPC entries report NOT_SERVING.
    pub async fn new(grpc: HealthReporter, gauge: IntGauge) -> Health {
        let health = Health {
            warmed: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            grpc,
            gauge,
        };
        health.publish().await;
        health
    }

    /// Every module is loaded and warmed.
    pub async fn set_warmed(&self) {
        self.warmed.store(true, Ordering::SeqCst);
        self.publish().await;
    }

    /// Shutdown began: readiness turns false for good.
    pub async fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.publish().await;
    }

    pub fn is_ready(&self) -> bool {
        self.warmed.load(Ordering::SeqCst) && !self.draining.load(Ordering::SeqCst)
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Ok when new work may be admitted; else the `unavailable` error saying why.
    pub fn check_accepting(&self) -> Result<(), ApiError> {
        if self.is_draining() {
            return Err(ApiError::Unavailable(
                "the server is shutting down and accepts no new requests".into(),
            ));
        }
        if !self.warmed.load(Ordering::SeqCst) {
            return Err(ApiError::Unavailable(
                "the model is still loading and warming up; retry when /health/ready answers 200"
                    .into(),
            ));
        }
        Ok(())
    }

    async fn publish(&self) {
        let ready = self.is_ready();
        self.gauge.set(i64::from(ready));
        let status = if ready {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        self.grpc.set_service_status("", status).await;
        self.grpc
            .set_service_status(INFERENCE_SERVICE, status)
            .await;
    }
}
