//! REST (axum): the task routes of ARCHITECTURE.md §5, health, metrics, info and the OpenAPI
//! docs. Handlers are thin: read the body, hand it to the shared layer, shape the answer.

mod call;
mod docs;
mod form;
mod ops;
pub mod parse;
mod tasks;

use std::sync::Arc;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};
use tokio::net::TcpListener;

use crate::{service::Inference, shutdown::CloseListeners};

pub fn router(inference: Arc<Inference>) -> Router {
    let body_limit = inference.config().limits.max_body_bytes;
    Router::new()
        .route("/v1/vqa", post(tasks::vqa))
        .route("/v1/caption", post(tasks::caption))
        .route("/v1/embeddings", post(tasks::embeddings))
        .route("/v1/match", post(tasks::match_texts))
        .route("/v1/classify", post(tasks::classify))
        .route("/info", get(ops::info))
        .route("/health/live", get(ops::live))
        .route("/health/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(docs::openapi))
        .route("/docs", get(docs::page))
        .fallback(ops::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(inference)
}

/// Serves until told to close, then finishes the open connections.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    close: CloseListeners,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(close.wait())
        .await
}
