//! What the protocol layer knows about a call besides its body.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

pub use crate::metrics::Protocol;

/// One incoming call: its protocol, credentials, the client's deadline and an id for logs.
#[derive(Debug, Clone)]
pub struct Call {
    pub protocol: Protocol,
    /// The API key the client presented, if any.
    pub api_key: Option<String>,
    /// The client's own time budget (`x-request-timeout-ms` or the gRPC deadline).
    pub timeout: Option<Duration>,
    pub request_id: String,
    /// When the call arrived: its deadline counts from here.
    pub arrived: Instant,
}

impl Call {
    pub fn new(
        protocol: Protocol,
        api_key: Option<String>,
        timeout: Option<Duration>,
        request_id: Option<String>,
    ) -> Call {
        Call {
            protocol,
            api_key,
            timeout,
            request_id: request_id.unwrap_or_else(next_request_id),
            arrived: Instant::now(),
        }
    }
}

/// The API key a client presented: `Authorization: Bearer <key>`, else `x-api-key: <key>`.
pub fn presented_key(authorization: Option<&str>, x_api_key: Option<&str>) -> Option<String> {
    let bearer = authorization.and_then(|value| {
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned())
    });
    bearer.or_else(|| x_api_key.map(str::to_owned))
}

/// A client-chosen request id, if it is short enough to log.
pub fn client_request_id(value: Option<&str>) -> Option<String> {
    value
        .filter(|id| !id.is_empty() && id.len() <= 128)
        .map(str::to_owned)
}

/// A process-unique id: the process id and a counter.
fn next_request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "{:x}-{:x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
