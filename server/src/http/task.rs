//! The REST route of a task slice: its request from a JSON or multipart body, its answer as
//! JSON, the request id in `x-request-id`.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Request, State},
    http::HeaderValue,
    response::{IntoResponse, Response},
};

use super::call::{self, REQUEST_ID_HEADER};
use crate::{error::ApiError, form::Form, gateway::Call, serving::TaskState, tasks::TaskSlice};

pub async fn handle<T: TaskSlice>(
    State(state): State<Arc<TaskState>>,
    request: Request,
) -> Response {
    let (call, header) = call::from_headers(request.headers());
    // The intake slot first: no body is read beyond --max-pending-requests.
    let slot = state.gateway.receive();
    let parse = async {
        header?;
        parse::<T>(request, state.max_body_bytes, &state.media_urls).await
    };
    let answer = state.gateway.run::<T>(&call, slot, parse).await;
    respond(&call, answer.map(T::to_json))
}

/// The request of `T` from a body; a field `T` did not take is an error.
pub async fn parse<T: TaskSlice>(
    request: Request,
    max_body_bytes: usize,
    urls: &crate::media_url::MediaUrls,
) -> Result<T::Request, ApiError> {
    let mut form = Form::read(request, max_body_bytes).await?;
    let parsed = T::from_form(&mut form, urls).await?;
    form.finish()?;
    Ok(parsed)
}

fn respond(call: &Call, result: Result<serde_json::Value, ApiError>) -> Response {
    let mut response = match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    };
    if let Ok(id) = HeaderValue::from_str(&call.request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    response
}
