//! What the protocol layers are given at start-up: the task routes (REST and gRPC) get the
//! gateway and what parsing needs; the operator routes get health, metrics and `/info`.

use std::sync::Arc;

use mplug2_model::decode::DecodeLimits;

use crate::{
    gateway::Gateway,
    health::Health,
    info::{ServerInfo, Settings},
    limits::RequestLimits,
    media_url::MediaUrls,
    metrics::Metrics,
    tasks::SchemaContext,
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
    pub schema: SchemaSettings,
}

/// What the OpenAPI document states of this server's configuration.
pub struct SchemaSettings {
    pub limits: RequestLimits,
    pub decode: DecodeLimits,
    pub media_urls: bool,
}

impl OpsState {
    /// The settings and the loaded model, as the OpenAPI document states them.
    pub fn schema_context(&self) -> SchemaContext<'_> {
        SchemaContext {
            limits: &self.schema.limits,
            decode: &self.schema.decode,
            media_urls: self.schema.media_urls,
            // The widest package's: a smaller `dimensions` of another is not stated.
            embed_dim: self.gateway.models().and_then(|models| {
                models
                    .all()
                    .iter()
                    .filter_map(|engine| engine.context().embed_dim)
                    .max()
            }),
        }
    }
}

impl OpsState {
    pub fn info(&self) -> ServerInfo {
        ServerInfo::collect(
            &self.settings,
            self.health.is_ready(),
            self.gateway.models().map(Arc::as_ref),
        )
    }
}
