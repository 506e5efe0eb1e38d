use super::{MediaLimit, StopReason};

/// Why a piece of media cannot be turned into pixel values.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Built by `MediaLimits::check` only; `over` says which limit (the server adds its flag).
    #[error("{what} is {value}, over the limit of {limit}")]
    TooLarge {
        what: &'static str,
        limit: u64,
        value: u64,
        over: MediaLimit,
    },
    #[error("unsupported {what}: {detail}")]
    Unsupported { what: &'static str, detail: String },
    #[error("cannot decode {what}: {reason}")]
    Corrupt { what: &'static str, reason: String },
    #[error("{what} is empty")]
    Empty { what: &'static str },
    #[error("video has no decodable frames")]
    NoFrames,
    /// A request's `num_frames` below 1 (its upper bound is the server's to check).
    #[error("num_frames must be at least 1, got {value}")]
    NumFrames { value: usize },
    #[error("video decoder failed: {0}")]
    Decoder(String),
    /// The request was cancelled or its deadline passed while its media was decoded.
    #[error("{}", stopped_message(*reason, *decoded))]
    Stopped { reason: StopReason, decoded: usize },
}

fn stopped_message(reason: StopReason, decoded: usize) -> String {
    let why = match reason {
        StopReason::Cancelled => "the request was cancelled",
        StopReason::DeadlinePassed => "the request's deadline passed",
    };
    format!("media decoding stopped after {decoded} frames: {why}")
}
