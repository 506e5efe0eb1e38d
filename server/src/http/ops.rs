//! Operator routes: health, metrics, info, and the JSON 404.

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{error::ApiError, serving::OpsState};

/// 200 while the process serves HTTP at all.
pub async fn live() -> Response {
    (StatusCode::OK, Json(json!({ "status": "live" }))).into_response()
}

/// 200 once every module is loaded and warmed; 503 before, and while draining.
pub async fn ready(State(ops): State<Arc<OpsState>>) -> Response {
    let health = &ops.health;
    if health.is_ready() {
        (StatusCode::OK, Json(json!({ "status": "ready" }))).into_response()
    } else {
        let status = if health.is_draining() {
            "draining"
        } else {
            "loading"
        };
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": status })),
        )
            .into_response()
    }
}

pub async fn metrics(State(ops): State<Arc<OpsState>>) -> Response {
    match ops.metrics.render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot render metrics");
            ApiError::Internal {
                request_id: "metrics".into(),
            }
            .into_response()
        }
    }
}

pub async fn info(State(ops): State<Arc<OpsState>>) -> Response {
    Json(ops.info()).into_response()
}

pub async fn not_found() -> Response {
    let body = json!({ "error": { "type": "not_found", "message": "no such route; see /docs" } });
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}
