use std::path::PathBuf;

/// ONNX Runtime failures: loading the library, building sessions, running graphs.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(
        "no ONNX Runtime library configured: pass its path (--ort-library) or set ORT_DYLIB_PATH (scripts/fetch-ort.sh downloads one)"
    )]
    LibraryNotConfigured,
    #[error("ONNX Runtime library {} does not exist", path.display())]
    LibraryMissing { path: PathBuf },
    #[error("ONNX Runtime library {} is too old: {reason}", path.display())]
    LibraryTooOld { path: PathBuf, reason: String },
    #[error("ONNX Runtime library {} cannot be loaded: {reason}", path.display())]
    LibraryLoad { path: PathBuf, reason: String },
    #[error("no configured execution provider could be registered for {graph}: {reasons}")]
    NoProvider { graph: String, reasons: String },
    #[error("graph {graph}: {problem}")]
    GraphContract { graph: String, problem: String },
    #[error("ONNX Runtime failed {context}: {message}")]
    Ort { context: String, message: String },
}

impl RuntimeError {
    pub(crate) fn ort(context: impl Into<String>, error: impl std::fmt::Display) -> RuntimeError {
        RuntimeError::Ort {
            context: context.into(),
            message: error.to_string(),
        }
    }
}
