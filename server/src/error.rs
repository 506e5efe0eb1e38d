//! The one error type of the serving layer and its table to HTTP status and gRPC code
//! (ARCHITECTURE.md §5). Every protocol maps errors through here and nowhere else.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use mplug2_model::{ErrorKind, ModelError, preprocess::MediaError};
use serde::Serialize;

use crate::{
    engine::SelectError,
    limits::{Limit, LimitError},
};

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// Malformed JSON, bad base64, undecodable media, empty input, unknown field values.
    #[error("{0}")]
    InvalidRequest(String),
    /// A body, image, frame list, video or text over its limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A content type or container format that is not served.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The loaded package lacks the graphs of this task.
    #[error("{0}")]
    UnsupportedTask(String),
    /// An admission limit or a queue bound is reached; the message names it.
    #[error("{message}; retry later")]
    Overloaded { message: String, retry_after_s: u64 },
    /// The request's deadline passed before or during work.
    #[error("{0}")]
    Timeout(String),
    /// Not ready yet, or draining for shutdown.
    #[error("{0}")]
    Unavailable(String),
    /// An API key is configured and the request's is missing or wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// Anything else; the details are logged under the request id, not sent to the client.
    #[error("internal error (request id {request_id}); the server log has the details")]
    Internal { request_id: String },
}

impl ApiError {
    /// The `type` field of the error body.
    pub fn type_name(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest(_) => "invalid_request",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::UnsupportedTask(_) => "unsupported_task",
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::Timeout(_) => "timeout",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Internal { .. } => "internal",
        }
    }

    pub fn http_status(&self) -> StatusCode {
        match self {
            ApiError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::UnsupportedTask(_) => StatusCode::NOT_IMPLEMENTED,
            ApiError::Overloaded { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn grpc_code(&self) -> tonic::Code {
        match self {
            ApiError::InvalidRequest(_)
            | ApiError::PayloadTooLarge(_)
            | ApiError::UnsupportedMediaType(_) => tonic::Code::InvalidArgument,
            ApiError::UnsupportedTask(_) => tonic::Code::Unimplemented,
            ApiError::Overloaded { .. } => tonic::Code::ResourceExhausted,
            ApiError::Timeout(_) => tonic::Code::DeadlineExceeded,
            ApiError::Unavailable(_) => tonic::Code::Unavailable,
            ApiError::Unauthorized(_) => tonic::Code::Unauthenticated,
            ApiError::Internal { .. } => tonic::Code::Internal,
        }
    }

    /// Classifies a model-crate error by the table; internal ones are logged with the request id
    /// and answered without their details. Limit errors gain the flag that sets the limit.
    pub fn from_model(error: ModelError, request_id: &str) -> ApiError {
        let message = match limit_of(&error).and_then(Limit::flag) {
            Some(flag) => format!("{error} ({flag})"),
            None => error.to_string(),
        };
        match error.kind() {
            ErrorKind::InvalidRequest => ApiError::InvalidRequest(message),
            ErrorKind::PayloadTooLarge => ApiError::PayloadTooLarge(message),
            ErrorKind::UnsupportedMediaType => ApiError::UnsupportedMediaType(message),
            ErrorKind::UnsupportedTask => ApiError::UnsupportedTask(message),
            ErrorKind::Timeout => ApiError::Timeout(message),
            ErrorKind::Unavailable => ApiError::Unavailable(message),
            ErrorKind::Overloaded => ApiError::Overloaded {
                message,
                retry_after_s: 1,
            },
            ErrorKind::Internal => {
                tracing::error!(request_id, error = %message, "internal error");
                ApiError::Internal {
                    request_id: request_id.to_owned(),
                }
            }
        }
    }

    /// The same error, its message prefixed with where it arose (`context: message`).
    pub fn about(self, context: &str) -> ApiError {
        let prefixed = |message: String| format!("{context}: {message}");
        match self {
            ApiError::InvalidRequest(m) => ApiError::InvalidRequest(prefixed(m)),
            ApiError::PayloadTooLarge(m) => ApiError::PayloadTooLarge(prefixed(m)),
            ApiError::UnsupportedMediaType(m) => ApiError::UnsupportedMediaType(prefixed(m)),
            ApiError::UnsupportedTask(m) => ApiError::UnsupportedTask(prefixed(m)),
            ApiError::Timeout(m) => ApiError::Timeout(prefixed(m)),
            ApiError::Unavailable(m) => ApiError::Unavailable(prefixed(m)),
            ApiError::Unauthorized(m) => ApiError::Unauthorized(prefixed(m)),
            ApiError::Overloaded {
                message,
                retry_after_s,
            } => ApiError::Overloaded {
                message: prefixed(message),
                retry_after_s,
            },
            internal @ ApiError::Internal { .. } => internal,
        }
    }

    /// The server's Retry-After value for an overload error (the model layer does not know it).
    pub fn with_retry_after(self, seconds: u64) -> ApiError {
        match self {
            ApiError::Overloaded { message, .. } => ApiError::Overloaded {
                message,
                retry_after_s: seconds,
            },
            other => other,
        }
    }

    fn retry_after_s(&self) -> Option<u64> {
        match self {
            ApiError::Overloaded { retry_after_s, .. } => Some(*retry_after_s),
            _ => None,
        }
    }
}

impl From<SelectError> for ApiError {
    fn from(error: SelectError) -> ApiError {
        let message = error.to_string();
        match error {
            SelectError::Unknown { .. } | SelectError::NotServing { .. } => {
                ApiError::InvalidRequest(message)
            }
            SelectError::NoneServes { .. } => ApiError::UnsupportedTask(message),
        }
    }
}

impl From<LimitError> for ApiError {
    fn from(error: LimitError) -> ApiError {
        let message = error.to_string();
        match error {
            LimitError::Empty { .. } | LimitError::Option { .. } => {
                ApiError::InvalidRequest(message)
            }
            LimitError::Over { .. } => ApiError::PayloadTooLarge(message),
        }
    }
}

/// The limit a model-crate error reports a value over, if any.
fn limit_of(error: &ModelError) -> Option<Limit> {
    match error {
        ModelError::Media(MediaError::TooLarge { over, .. }) => Some(Limit::Media(*over)),
        ModelError::Override(over) if over.value > over.max => Some(Limit::Decode(over.what)),
        _ => None,
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    r#type: &'a str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                r#type: self.type_name(),
                message: self.to_string(),
            },
        };
        let mut response = (self.http_status(), Json(body)).into_response();
        if let Some(seconds) = self.retry_after_s() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<ApiError> for tonic::Status {
    fn from(error: ApiError) -> Self {
        let mut status = tonic::Status::new(error.grpc_code(), error.to_string());
        if let Some(seconds) = error.retry_after_s()
            && let Ok(value) = seconds.to_string().parse()
        {
            status.metadata_mut().insert("retry-after", value);
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<ApiError> {
        vec![
            ApiError::InvalidRequest("x".into()),
            ApiError::PayloadTooLarge("x".into()),
            ApiError::UnsupportedMediaType("x".into()),
            ApiError::UnsupportedTask("x".into()),
            ApiError::Overloaded {
                message: "x".into(),
                retry_after_s: 1,
            },
            ApiError::Timeout("x".into()),
            ApiError::Unavailable("x".into()),
            ApiError::Unauthorized("x".into()),
            ApiError::Internal {
                request_id: "r".into(),
            },
        ]
    }

    #[test]
    fn table_matches_the_contract() {
        let table: Vec<_> = all()
            .iter()
            .map(|e| (e.type_name(), e.http_status().as_u16(), e.grpc_code()))
            .collect();
        use tonic::Code::*;
        assert_eq!(
            table,
            vec![
                ("invalid_request", 400, InvalidArgument),
                ("payload_too_large", 413, InvalidArgument),
                ("unsupported_media_type", 415, InvalidArgument),
                ("unsupported_task", 501, Unimplemented),
                ("overloaded", 429, ResourceExhausted),
                ("timeout", 504, DeadlineExceeded),
                ("unavailable", 503, Unavailable),
                ("unauthorized", 401, Unauthenticated),
                ("internal", 500, Internal),
            ]
        );
    }

    #[test]
    fn overloaded_carries_retry_after() {
        let overloaded = || ApiError::Overloaded {
            message: "4 requests are in flight, the limit (--max-concurrent-requests) is 4".into(),
            retry_after_s: 3,
        };
        let response = overloaded().into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
        let status = tonic::Status::from(overloaded());
        assert_eq!(status.metadata().get("retry-after").unwrap(), "3");
        assert!(status.message().contains("--max-concurrent-requests"));
    }
}
