//! The task routes. Each builds its request from a `Form` (JSON or multipart) and answers JSON.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Request, State},
    http::HeaderValue,
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use serde::Serialize;
use serde_json::json;

use super::{
    call::{self, REQUEST_ID_HEADER},
    parse::{self, Encoding},
};
use crate::{
    error::ApiError,
    media_url::MediaUrls,
    service::{Call, Inference},
};

type App = State<Arc<Inference>>;

pub async fn vqa(State(app): App, request: Request) -> Response {
    let (call, header) = call::from_headers(request.headers());
    let limit = app.config().limits.max_body_bytes;
    let urls = media_urls(&app);
    let answer = app
        .vqa(&call, async move {
            header?;
            parse::vqa(request, limit, &urls).await
        })
        .await;
    respond(&call, answer.map(|answer| json!({ "answer": answer })))
}

pub async fn caption(State(app): App, request: Request) -> Response {
    let (call, header) = call::from_headers(request.headers());
    let limit = app.config().limits.max_body_bytes;
    let urls = media_urls(&app);
    let caption = app
        .caption(&call, async move {
            header?;
            parse::caption(request, limit, &urls).await
        })
        .await;
    respond(&call, caption.map(|caption| json!({ "caption": caption })))
}

pub async fn embeddings(State(app): App, request: Request) -> Response {
    let (call, header) = call::from_headers(request.headers());
    let limit = app.config().limits.max_body_bytes;
    let encoding = std::sync::OnceLock::new();
    let chosen = &encoding;
    let vectors = app
        .embed(&call, async move {
            header?;
            let (parsed, encoding) = parse::embeddings(request, limit).await?;
            let _ = chosen.set(encoding);
            Ok(parsed)
        })
        .await;
    let encoding = encoding.get().copied().unwrap_or(Encoding::Float);
    let model = app
        .engine()
        .map(|engine| engine.model_info().name.clone())
        .unwrap_or_default();
    respond(
        &call,
        vectors.map(|vectors| embeddings_body(vectors, encoding, model)),
    )
}

fn embeddings_body(vectors: Vec<Vec<f32>>, encoding: Encoding, model: String) -> serde_json::Value {
    let data: Vec<_> = vectors
        .into_iter()
        .enumerate()
        .map(|(index, vector)| {
            let embedding = match encoding {
                Encoding::Float => json!(vector),
                Encoding::Base64 => {
                    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                    json!(base64::engine::general_purpose::STANDARD.encode(bytes))
                }
            };
            json!({ "object": "embedding", "index": index, "embedding": embedding })
        })
        .collect();
    json!({ "object": "list", "data": data, "model": model })
}

pub async fn match_texts(State(app): App, request: Request) -> Response {
    let (call, header) = call::from_headers(request.headers());
    let limit = app.config().limits.max_body_bytes;
    let urls = media_urls(&app);
    let scores = app
        .match_texts(&call, async move {
            header?;
            parse::match_texts(request, limit, &urls).await
        })
        .await;
    respond(&call, scores.map(|scores| json!({ "scores": scores })))
}

pub async fn classify(State(app): App, request: Request) -> Response {
    let (call, header) = call::from_headers(request.headers());
    let limit = app.config().limits.max_body_bytes;
    let urls = media_urls(&app);
    let labels = app
        .classify(&call, async move {
            header?;
            parse::classify(request, limit, &urls).await
        })
        .await;
    respond(
        &call,
        labels.map(|labels| {
            let labels: Vec<_> = labels
                .into_iter()
                .map(|(label, score)| json!({ "label": label, "score": score }))
                .collect();
            json!({ "labels": labels })
        }),
    )
}

fn media_urls(app: &Inference) -> MediaUrls {
    MediaUrls::new(&app.config().media_urls, &app.config().limits)
}

fn respond<T: Serialize>(call: &Call, result: Result<T, ApiError>) -> Response {
    let mut response = match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    };
    if let Ok(id) = HeaderValue::from_str(&call.request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    response
}
