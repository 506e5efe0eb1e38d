//! How ONNX Runtime is loaded and how sessions are built.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// An execution provider, tried in the configured order; the first that registers is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecutionProvider {
    TensorRt,
    Cuda,
    Cpu,
}

impl ExecutionProvider {
    pub fn name(self) -> &'static str {
        match self {
            ExecutionProvider::TensorRt => "tensorrt",
            ExecutionProvider::Cuda => "cuda",
            ExecutionProvider::Cpu => "cpu",
        }
    }
}

impl fmt::Display for ExecutionProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ExecutionProvider {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "tensorrt" | "trt" => Ok(ExecutionProvider::TensorRt),
            "cuda" => Ok(ExecutionProvider::Cuda),
            "cpu" => Ok(ExecutionProvider::Cpu),
            other => Err(format!(
                "unknown execution provider `{other}` (expected tensorrt, cuda or cpu)"
            )),
        }
    }
}

/// ONNX Runtime graph optimization level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptimizationLevel {
    Disabled,
    Basic,
    Extended,
    #[default]
    All,
}

impl FromStr for OptimizationLevel {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "disabled" | "disable" | "none" => Ok(OptimizationLevel::Disabled),
            "basic" => Ok(OptimizationLevel::Basic),
            "extended" => Ok(OptimizationLevel::Extended),
            "all" => Ok(OptimizationLevel::All),
            other => Err(format!(
                "unknown optimization level `{other}` (expected disabled, basic, extended or all)"
            )),
        }
    }
}

/// Where the ONNX Runtime library is and how sessions run.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// The `libonnxruntime.so` to load; `None` reads `ORT_DYLIB_PATH`.
    pub library: Option<PathBuf>,
    /// Tried in order; the first that registers is used (and reported).
    pub providers: Vec<ExecutionProvider>,
    /// Threads inside one operator, per session; 0 = ONNX Runtime's default (one per core).
    pub intra_op_threads: usize,
    pub optimization_level: OptimizationLevel,
    /// On-disk TensorRT engine cache (engines take minutes to build).
    pub tensorrt_cache_dir: Option<PathBuf>,
    /// Let idle intra-op threads spin-wait: lower latency for one session alone, wasted cores when
    /// several sessions run at the same time (as in the server).
    pub spin_wait: bool,
    /// After each run, give the CPU arena's unused regions back to the system, so that resident
    /// memory falls back to the weights after a large batch instead of keeping its peak.
    pub arena_shrinkage: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            library: None,
            providers: vec![ExecutionProvider::Cpu],
            intra_op_threads: 0,
            optimization_level: OptimizationLevel::All,
            tensorrt_cache_dir: None,
            spin_wait: true,
            arena_shrinkage: false,
        }
    }
}
