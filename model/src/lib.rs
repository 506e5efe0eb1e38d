//! mPLUG-2 on ONNX Runtime: everything needed to run a model package, with no networking.
//!
//! - [`package`]: read and validate a model package;
//! - [`runtime`]: load ONNX Runtime, pick the execution provider, build sessions;
//! - [`preprocess`] and [`text`]: media and text exactly as the reference prepares them;
//! - [`modules`]: one runner per graph, padding inside;
//! - [`decode`]: the reference beam search as a step-driven state machine, KV cache, batching;
//! - [`tasks`]: the task table and the pipelines, generic over an [`tasks::Executor`].
//!
//! The ONNX Runtime library is loaded at run time from `RuntimeConfig::library` or `ORT_DYLIB_PATH`.

pub mod decode;
mod error;
mod model;
pub mod modules;
pub mod package;
pub mod preprocess;
pub mod runtime;
pub mod tasks;
pub mod text;
pub mod tolerance;

pub use error::{ErrorKind, ModelError};
pub use model::{LoadOptions, Model};
