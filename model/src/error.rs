//! The crate's error, and how each case is classified for the server's error table.

use crate::decode::{BeamError, OverrideError, SamplingError};
use crate::package::PackageError;
use crate::preprocess::{MediaError, StopReason};
use crate::runtime::RuntimeError;
use crate::tasks::Task;
use crate::text::TextError;

/// Error classes of the API's error table (ARCHITECTURE §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    InvalidRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    UnsupportedTask,
    Overloaded,
    Timeout,
    Unavailable,
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Override(#[from] OverrideError),
    #[error(transparent)]
    Sampling(#[from] SamplingError),
    #[error("{0}")]
    InvalidInput(String),
    #[error("task `{task}` is not served: the model package lacks graphs or config it needs")]
    UnsupportedTask { task: Task },
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("beam search: {0}")]
    Beam(#[from] BeamError),
    #[error("graph {graph} returned {problem}")]
    Output { graph: String, problem: String },
    /// A condition raised by an `Executor` (the server's batchers: overload, deadline, shutdown).
    #[error("{message}")]
    Executor { kind: ErrorKind, message: String },
}

impl ModelError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ModelError::Media(error) => match error {
                MediaError::TooLarge { .. } => ErrorKind::PayloadTooLarge,
                MediaError::Unsupported { .. } => ErrorKind::UnsupportedMediaType,
                MediaError::Corrupt { .. }
                | MediaError::Empty { .. }
                | MediaError::NoFrames
                | MediaError::NumFrames { .. } => ErrorKind::InvalidRequest,
                MediaError::Decoder(_) => ErrorKind::Internal,
                MediaError::Stopped {
                    reason: StopReason::DeadlinePassed,
                    ..
                } => ErrorKind::Timeout,
                // Nobody waits for the answer any more.
                MediaError::Stopped {
                    reason: StopReason::Cancelled,
                    ..
                } => ErrorKind::Unavailable,
            },
            ModelError::Text(error) => match error {
                TextError::NotUtf8 { .. } | TextError::Empty { .. } => ErrorKind::InvalidRequest,
                TextError::TooManyTokens { .. } => ErrorKind::PayloadTooLarge,
                TextError::Tokenizer { .. } | TextError::Encode { .. } => ErrorKind::Internal,
            },
            ModelError::Override(_) | ModelError::Sampling(_) | ModelError::InvalidInput(_) => {
                ErrorKind::InvalidRequest
            }
            ModelError::UnsupportedTask { .. } => ErrorKind::UnsupportedTask,
            ModelError::Executor { kind, .. } => *kind,
            ModelError::Package(_)
            | ModelError::Runtime(_)
            | ModelError::Beam(_)
            | ModelError::Output { .. } => ErrorKind::Internal,
        }
    }

    pub(crate) fn output(graph: impl std::fmt::Display, problem: impl Into<String>) -> ModelError {
        ModelError::Output {
            graph: graph.to_string(),
            problem: problem.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_payload_too_large_and_name_the_value() {
        let limits = crate::preprocess::MediaLimits::DEFAULT;
        let error = ModelError::from(
            limits
                .check(crate::preprocess::MediaLimit::ImagePixels, 10_000_000_000)
                .unwrap_err(),
        );
        assert_eq!(error.kind(), ErrorKind::PayloadTooLarge);
        assert_eq!(
            error.to_string(),
            "image pixels is 10000000000, over the limit of 40000000"
        );
    }

    #[test]
    fn classification_follows_the_error_table() {
        let unsupported = ModelError::from(MediaError::Unsupported {
            what: "video codec",
            detail: "Theora".into(),
        });
        assert_eq!(unsupported.kind(), ErrorKind::UnsupportedMediaType);
        let empty = ModelError::from(TextError::Empty {
            what: "question",
            text: "?".into(),
        });
        assert_eq!(empty.kind(), ErrorKind::InvalidRequest);
        let task = ModelError::UnsupportedTask { task: Task::Match };
        assert_eq!(task.kind(), ErrorKind::UnsupportedTask);
        let frames = ModelError::from(MediaError::NumFrames { value: 0 });
        assert_eq!(frames.kind(), ErrorKind::InvalidRequest);
        assert_eq!(frames.to_string(), "num_frames must be at least 1, got 0");
        let sampling = ModelError::from(crate::decode::SamplingError {
            what: crate::decode::SamplingOption::Temperature,
            value: -1.0,
        });
        assert_eq!(sampling.kind(), ErrorKind::InvalidRequest);
    }
}
