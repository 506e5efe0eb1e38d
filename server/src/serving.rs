//! What the protocol layers are given at start-up: the task routes (REST and gRPC) get the
//! gateway and what parsing needs; the operator routes get health, metrics and `/info`.

use std::sync::Arc;

use crate::{
    gateway::Gateway,
    health::Health,
    info::{ServerInfo, Settings},
    media_url::MediaUrls,
    metrics::Metrics,
};

/// The state of every task route.
pub struct TaskState {
    pub gateway: Arc<Gateway>,
    /// `--max-body-bytes`: of a REST body, or of a gRPC message.
    pub max_body_bytes: usize,
    pub media_urls: MediaUrls,
}

/// The state of the operator routes and the gRPC `Info` method.
pub struct OpsState {
    pub gateway: Arc<Gateway>,
    pub health: Arc<Health>,
    pub metrics: Metrics,
    pub settings: Settings,
}

impl OpsState {
    pub fn info(&self) -> ServerInfo {
        ServerInfo::collect(
            &self.settings,
            self.health.is_ready(),
            self.gateway.engine().map(Arc::as_ref),
        )
    }
}
