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
    middleware,
    routing::{get, post},
};
use tokio::net::TcpListener;

use crate::{intake, service::Inference, shutdown::CloseListeners};

/// The API address: task routes (behind the intake bound), `/info`, the docs, and `/health/*`
/// and `/metrics` unless `--admin-addr` serves them.
pub fn router(inference: Arc<Inference>) -> Router {
    let body_limit = inference.config().limits.max_body_bytes;
    let tasks = Router::new()
        .route("/v1/vqa", post(tasks::vqa))
        .route("/v1/caption", post(tasks::caption))
        .route("/v1/embeddings", post(tasks::embeddings))
        .route("/v1/match", post(tasks::match_texts))
        .route("/v1/classify", post(tasks::classify))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&inference),
            intake::rest,
        ));
    let router = Router::new()
        .merge(tasks)
        .route("/info", get(ops::info))
        .route("/openapi.json", get(docs::openapi))
        .route("/docs", get(docs::page));
    let router = if inference.config().protection.admin_addr.is_some() {
        router
    } else {
        router.merge(operator_routes())
    };
    router
        .fallback(ops::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(inference)
}

/// The `--admin-addr` address: health, metrics and info, never behind the API key.
pub fn admin_router(inference: Arc<Inference>) -> Router {
    operator_routes()
        .route("/info", get(ops::info))
        .fallback(ops::not_found)
        .with_state(inference)
}

fn operator_routes() -> Router<Arc<Inference>> {
    Router::new()
        .route("/health/live", get(ops::live))
        .route("/health/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
}

/// Serves until told to close, then finishes the open connections.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    close: CloseListeners,
) -> std::io::Result<()> {
    // TCP_NODELAY: without it Nagle's algorithm holds a small answer's last write (an HTTP/2
    // trailer, say) until the client's delayed ACK, ~40 ms later.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(close.wait())
        .await
}
