//! The REST route of a task slice: its request from a JSON or multipart body, its answer as
//! JSON, the request id in `x-request-id`.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
};

use super::call::{self, REQUEST_ID_HEADER};
use crate::{
    error::ApiError,
    form::Form,
    gateway::{Call, Routed, Timing},
    serving::TaskState,
    tasks::TaskSlice,
};

pub async fn handle<T: TaskSlice>(
    State(state): State<Arc<TaskState>>,
    request: Request,
) -> Response {
    let (call, header) = call::from_headers(request.headers());
    // The intake slot first: no body is read beyond --max-pending-requests.
    let slot = state.gateway.receive();
    let urls = state.media_urls.until(state.gateway.deadline(&call));
    let parse = async {
        header?;
        parse::<T>(request, state.max_body_bytes, &urls).await
    };
    let admitted = match state.gateway.admit::<T>(&call, slot, parse).await {
        Ok(admitted) => admitted,
        Err(error) => return respond(&call, Err(error)),
    };
    if let Some(frames) = T::sse(admitted.engine(), admitted.request()) {
        return super::stream::events(admitted, frames, &call).await;
    }
    let answered = admitted.run().await;
    let timing = answered.as_ref().ok().map(|answered| answered.timing);
    let mut response = respond(&call, answered.map(|answered| T::to_json(answered.answer)));
    if let Some(timing) = timing {
        timing_headers(response.headers_mut(), &timing);
    }
    response
}

/// `x-queue-time`, `x-compute-time` and `x-total-time` in milliseconds, as TEI sends them.
pub fn timing_headers(headers: &mut HeaderMap, timing: &Timing) {
    for (name, took) in [
        ("x-queue-time", timing.queue),
        ("x-compute-time", timing.compute),
        ("x-total-time", timing.total),
    ] {
        headers.insert(name, HeaderValue::from(took.as_millis() as u64));
    }
}

/// The request of `T` from a body and the package it names (`model`); a field `T` did not
/// take is an error.
pub async fn parse<T: TaskSlice>(
    request: Request,
    max_body_bytes: usize,
    urls: &crate::media_url::MediaUrls,
) -> Result<Routed<T::Request>, ApiError> {
    let mut form = Form::read(request, max_body_bytes).await?;
    let model = form.optional_text("model")?.filter(|name| !name.is_empty());
    let request = T::from_form(&mut form, urls).await?;
    form.finish()?;
    Ok(Routed { model, request })
}

pub fn respond(call: &Call, result: Result<serde_json::Value, ApiError>) -> Response {
    let mut response = match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    };
    if let Ok(id) = HeaderValue::from_str(&call.request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    response
}
