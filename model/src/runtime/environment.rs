//! Loading the ONNX Runtime library (load-dynamic) and creating the environment.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;

use super::{RuntimeConfig, RuntimeError};

pub const LIBRARY_ENV_VAR: &str = "ORT_DYLIB_PATH";

/// A loaded ONNX Runtime: the environment every session of a model is built in.
#[derive(Debug, Clone)]
pub struct Runtime {
    pub(crate) environment: Environment,
    pub(crate) config: RuntimeConfig,
    library: PathBuf,
}

impl Runtime {
    /// Loads the library named by the config (or `ORT_DYLIB_PATH`) and builds the environment.
    /// Every failure is an error that says what to fix; nothing here panics.
    ///
    /// The library and the environment are process-wide: once loaded, later calls reuse them
    /// whatever path they name.
    pub fn new(config: &RuntimeConfig) -> Result<Runtime, RuntimeError> {
        let library = resolve_library(config.library.as_deref())?;
        ort::init_from(&library).map_err(|error| classify_load_error(&library, error))?;
        let environment = shared_environment()?;
        Ok(Runtime {
            environment,
            config: config.clone(),
            library,
        })
    }

    pub fn library(&self) -> &Path {
        &self.library
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }
}

/// ONNX Runtime allows one environment per process, ever: it is created once and kept.
/// Per-model settings (threads, providers, optimization) live in the sessions, not here.
fn shared_environment() -> Result<Environment, RuntimeError> {
    static SHARED: Mutex<Option<Environment>> = Mutex::new(None);
    let mut shared = SHARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(environment) = shared.as_ref() {
        return Ok(environment.clone());
    }
    let environment = ort::init()
        .with_name("mplug2")
        .build()
        .map_err(|error| RuntimeError::ort("creating the environment", error))?;
    tracing::info!("ONNX Runtime environment created");
    *shared = Some(environment.clone());
    Ok(environment)
}

fn resolve_library(configured: Option<&Path>) -> Result<PathBuf, RuntimeError> {
    let path = match configured {
        Some(path) => path.to_path_buf(),
        None => match std::env::var_os(LIBRARY_ENV_VAR) {
            Some(value) if !value.is_empty() => PathBuf::from(value),
            _ => return Err(RuntimeError::LibraryNotConfigured),
        },
    };
    if !path.is_file() {
        return Err(RuntimeError::LibraryMissing { path });
    }
    Ok(path)
}

fn classify_load_error(path: &Path, error: ort::LoadDynamicError) -> RuntimeError {
    let reason = error.to_string();
    match error {
        ort::LoadDynamicError::BadVersion { .. } => RuntimeError::LibraryTooOld {
            path: path.to_path_buf(),
            reason,
        },
        _ => RuntimeError::LibraryLoad {
            path: path.to_path_buf(),
            reason,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_is_an_error_naming_the_path() {
        let config = RuntimeConfig {
            library: Some(PathBuf::from("/nonexistent/libonnxruntime.so")),
            ..RuntimeConfig::default()
        };
        let error = Runtime::new(&config).unwrap_err();
        assert!(matches!(error, RuntimeError::LibraryMissing { .. }));
        assert!(error.to_string().contains("/nonexistent/libonnxruntime.so"));
    }

    #[test]
    fn a_file_that_is_not_a_library_fails_to_load_without_panicking() {
        let file = std::env::temp_dir().join(format!("not-ort-{}.so", std::process::id()));
        std::fs::write(&file, b"not a shared object").unwrap();
        let error = resolve_library(Some(&file))
            .and_then(|path| ort::init_from(&path).map_err(|e| classify_load_error(&path, e)));
        std::fs::remove_file(&file).ok();
        assert!(matches!(error, Err(RuntimeError::LibraryLoad { .. })));
    }
}
