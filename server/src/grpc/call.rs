//! A `Call` from gRPC metadata (the HTTP/2 headers of the call): the API key, the client's
//! deadline (`grpc-timeout`) and the request id.

use std::time::Duration;

use axum::http::HeaderMap;

use crate::{
    error::ApiError,
    gateway::{Call, Protocol, client_request_id, presented_key},
};

pub fn from_headers(headers: &HeaderMap) -> (Call, Result<(), ApiError>) {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let api_key = presented_key(text("authorization"), text("x-api-key"));
    let timeout = match text("grpc-timeout") {
        None => Ok(None),
        Some(value) => parse_grpc_timeout(value)
            .map(Some)
            .ok_or_else(|| ApiError::InvalidRequest(format!("malformed grpc-timeout `{value}`"))),
    };
    let request_id = client_request_id(text("x-request-id"));
    let call = Call::new(
        Protocol::Grpc,
        api_key,
        timeout.as_ref().ok().copied().flatten(),
        request_id,
    );
    (call, timeout.map(|_| ()))
}

/// `grpc-timeout` is up to 8 digits and a unit: H, M, S, m (milli), u (micro), n (nano).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_in_every_unit() {
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout("4S"), Some(Duration::from_secs(4)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout("9n"), Some(Duration::from_nanos(9)));
        assert_eq!(parse_grpc_timeout("5x"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("S"), None);
    }
}
