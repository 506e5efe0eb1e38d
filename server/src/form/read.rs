//! Reading a request body into a `Form`: JSON or multipart, never more than the body limit.

use axum::{
    extract::{FromRequest, Multipart, Request},
    http::header::{CONTENT_LENGTH, CONTENT_TYPE},
};
use http_body_util::BodyExt;
use serde_json::Value as Json;

use super::{Form, Value};
use crate::error::ApiError;

impl Form {
    /// Reads the body as JSON or multipart; anything else is `unsupported_media_type`.
    pub async fn read(request: Request, max_body_bytes: usize) -> Result<Form, ApiError> {
        if let Err(error) = check_declared_length(&request, max_body_bytes) {
            discard_moderate_excess(request, max_body_bytes).await;
            return Err(error);
        }
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => Self::read_json(request, max_body_bytes).await,
            "multipart/form-data" => Self::read_multipart(request, max_body_bytes).await,
            "" => Err(ApiError::UnsupportedMediaType(
                "the request has no Content-Type; send application/json or multipart/form-data"
                    .into(),
            )),
            other => Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type `{other}` is not served; send application/json or multipart/form-data"
            ))),
        }
    }

    async fn read_json(request: Request, max_body_bytes: usize) -> Result<Form, ApiError> {
        let body = axum::body::to_bytes(request.into_body(), max_body_bytes)
            .await
            .map_err(|error| body_error(&error, max_body_bytes))?;
        let object: serde_json::Map<String, Json> =
            serde_json::from_slice(&body).map_err(|error| {
                ApiError::InvalidRequest(format!("the body is not a JSON object: {error}"))
            })?;
        let fields = object
            .into_iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(k, v)| (k, Value::Json(v)))
            .collect();
        Ok(Form {
            fields,
            multipart: false,
        })
    }

    async fn read_multipart(request: Request, max_body_bytes: usize) -> Result<Form, ApiError> {
        let multipart_error = |error: axum::extract::multipart::MultipartError| {
            if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                too_large_body(max_body_bytes)
            } else {
                ApiError::InvalidRequest(format!("malformed multipart body: {}", error.body_text()))
            }
        };
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|rejection| {
                ApiError::InvalidRequest(format!(
                    "malformed multipart body: {}",
                    rejection.body_text()
                ))
            })?;
        let mut fields = Vec::new();
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(multipart_error)?;
            fields.push((name, Value::Part(bytes)));
        }
        Ok(Form {
            fields,
            multipart: true,
        })
    }
}

fn declared_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

fn check_declared_length(request: &Request, max_body_bytes: usize) -> Result<(), ApiError> {
    match declared_length(request) {
        Some(length) if length > max_body_bytes as u64 => Err(ApiError::PayloadTooLarge(format!(
            "the request body is {length} bytes, over the limit of {max_body_bytes} (--max-body-bytes)"
        ))),
        _ => Ok(()),
    }
}

/// Reads and drops a body declared over the limit but at most twice it, frame by frame, before the
/// 413 goes out. Closing the connection on a client that is still sending resets it, and the
/// client then sees a broken pipe instead of the answer; a moderately oversized body is cheaper
/// to swallow than to leave the client guessing. Larger bodies are refused without reading them.
async fn discard_moderate_excess(request: Request, max_body_bytes: usize) {
    let bound = (max_body_bytes as u64).saturating_mul(2);
    if declared_length(&request).is_some_and(|length| length <= bound) {
        let mut body = request.into_body();
        while let Some(Ok(_)) = body.frame().await {}
    }
}

fn too_large_body(max_body_bytes: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the request body is over the limit of {max_body_bytes} bytes (--max-body-bytes)"
    ))
}

fn body_error(error: &axum::Error, max_body_bytes: usize) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<http_body_util::LengthLimitError>() {
            return too_large_body(max_body_bytes);
        }
        source = current.source();
    }
    ApiError::InvalidRequest(format!("cannot read the request body: {error}"))
}
