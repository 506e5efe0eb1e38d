//! Why a media URL was not fetched, and how each reason maps to the error table.

use crate::error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// URLs are off (`--media-urls`).
    #[error("media URLs are not accepted by this server (--media-urls is off); send the bytes")]
    Disabled,
    #[error("`{field}` is not a valid URL: {reason}")]
    InvalidUrl { field: &'static str, reason: String },
    /// A URL or redirect target refused by the rules (scheme, allowlist, address).
    #[error("`{field}` refused: {reason}")]
    Refused { field: &'static str, reason: String },
    #[error("`{field}` redirected more than {limit} times (--media-url-max-redirects)")]
    TooManyRedirects { field: &'static str, limit: u32 },
    #[error("`{field}` is over the limit of {limit} bytes ({flag}): {value}")]
    TooLarge {
        field: &'static str,
        limit: usize,
        flag: &'static str,
        value: String,
    },
    #[error("`{field}`: {what} took longer than {limit_ms} ms ({flag})")]
    Timeout {
        field: &'static str,
        what: &'static str,
        limit_ms: u64,
        flag: &'static str,
    },
    /// The request's deadline came before the fetch's end.
    #[error("`{field}`: the request's deadline passed while the media was fetched")]
    DeadlinePassed { field: &'static str },
    /// Every fetch slot is taken (`--max-concurrent-fetches`): an overload, not a bad URL.
    #[error("`{field}` was not fetched: {refusal}")]
    Busy {
        field: &'static str,
        refusal: String,
        retry_after_s: u64,
    },
    /// Resolution, connection or an answer other than 2xx.
    #[error("`{field}` could not be fetched: {reason}")]
    Upstream { field: &'static str, reason: String },
    /// The TLS handshake failed: the certificate is not valid for the host name, not trusted, …
    #[error("`{field}` could not be fetched: {reason}")]
    Tls { field: &'static str, reason: String },
}

impl From<FetchError> for ApiError {
    fn from(error: FetchError) -> ApiError {
        let message = error.to_string();
        match error {
            FetchError::Busy { retry_after_s, .. } => ApiError::Overloaded {
                message,
                retry_after_s,
            },
            FetchError::TooLarge { .. } => ApiError::PayloadTooLarge(message),
            FetchError::Timeout { .. } | FetchError::DeadlinePassed { .. } => {
                ApiError::Timeout(message)
            }
            FetchError::Disabled
            | FetchError::InvalidUrl { .. }
            | FetchError::Refused { .. }
            | FetchError::TooManyRedirects { .. }
            | FetchError::Upstream { .. }
            | FetchError::Tls { .. } => ApiError::InvalidRequest(message),
        }
    }
}

/// An error and its sources on one line (reqwest's own message hides the cause).
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
