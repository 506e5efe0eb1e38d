//! A `Call` from HTTP headers: the API key, the client's timeout and the request id.

use std::time::Duration;

use axum::http::{HeaderMap, header::AUTHORIZATION};

use crate::{
    error::ApiError,
    gateway::{Call, Protocol, client_request_id, presented_key},
};

pub const TIMEOUT_HEADER: &str = "x-request-timeout-ms";
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The call, and the error of a malformed timeout header (reported as the request's error).
pub fn from_headers(headers: &HeaderMap) -> (Call, Result<(), ApiError>) {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let api_key = presented_key(text(AUTHORIZATION.as_str()), text("x-api-key"));
    let timeout = timeout(text(TIMEOUT_HEADER));
    let request_id = client_request_id(text(REQUEST_ID_HEADER));
    let call = Call::new(
        Protocol::Http,
        api_key,
        timeout.as_ref().ok().copied().flatten(),
        request_id,
    );
    (call, timeout.map(|_| ()))
}

fn timeout(value: Option<&str>) -> Result<Option<Duration>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    match value.trim().parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Some(Duration::from_millis(ms))),
        _ => Err(ApiError::InvalidRequest(format!(
            "`{TIMEOUT_HEADER}` must be a positive number of milliseconds, not `{value}`"
        ))),
    }
}
