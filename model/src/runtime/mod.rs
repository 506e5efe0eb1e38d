//! ONNX Runtime: library loading, execution providers, sessions.

mod config;
mod environment;
mod error;
mod graph;

pub use config::{ExecutionProvider, OptimizationLevel, RuntimeConfig};
pub use environment::{LIBRARY_ENV_VAR, Runtime};
pub use error::RuntimeError;
pub use graph::{Graph, Termination};
