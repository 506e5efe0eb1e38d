//! OpenAI's `GET /v1/models` and `GET /v1/models/{id}`: the served model packages.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::{engine::ModelInfo, serving::OpsState};

#[derive(Serialize)]
struct ModelList {
    object: &'static str,
    data: Vec<ModelCard>,
}

/// One model in OpenAI's shape.
#[derive(Serialize)]
struct ModelCard {
    id: String,
    object: &'static str,
    /// Unix seconds: when the package's manifest was written.
    created: u64,
    owned_by: &'static str,
}

fn card(info: &ModelInfo) -> ModelCard {
    ModelCard {
        id: info.name.clone(),
        object: "model",
        created: info.created,
        owned_by: "mplug2-serve",
    }
}

fn served(ops: &OpsState) -> Vec<ModelCard> {
    ops.gateway
        .models()
        .map(|models| {
            models
                .all()
                .iter()
                .map(|engine| card(engine.info()))
                .collect()
        })
        .unwrap_or_default()
}

pub async fn list(State(ops): State<Arc<OpsState>>) -> Response {
    Json(ModelList {
        object: "list",
        data: served(&ops),
    })
    .into_response()
}

pub async fn one(State(ops): State<Arc<OpsState>>, Path(id): Path<String>) -> Response {
    let mut models = served(&ops);
    match models.iter().position(|model| model.id == id) {
        Some(found) => Json(models.swap_remove(found)).into_response(),
        None => {
            let names: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
            let message = format!(
                "no model `{id}` is served; the models are: {}",
                names.join(", ")
            );
            let body = serde_json::json!({ "error": { "type": "not_found", "message": message } });
            (StatusCode::NOT_FOUND, Json(body)).into_response()
        }
    }
}
