//! ONNX Runtime settings: library, execution providers, threads, graph optimisation.

use std::path::PathBuf;

use clap::ValueEnum;
use mplug2_model::runtime::{
    ExecutionProvider, OptimizationLevel as OrtOptimization, RuntimeConfig,
};

#[derive(clap::Args, Debug, Clone)]
pub struct RuntimeArgs {
    /// Execution providers to try, in order (comma separated). The first that registers is used
    /// and shown in /info and the mplug2_info metric.
    #[arg(
        long,
        env = "EXECUTION_PROVIDERS",
        value_enum,
        value_delimiter = ',',
        default_value = "cpu"
    )]
    pub execution_providers: Vec<Provider>,

    /// Path of the ONNX Runtime shared library (libonnxruntime.so, 1.31 or newer). Without it the
    /// ORT_DYLIB_PATH environment variable is used.
    #[arg(long, env = "ORT_LIBRARY")]
    pub ort_library: Option<PathBuf>,

    /// Threads ONNX Runtime uses inside one graph run (0 = its default: one per core).
    #[arg(long, env = "INTRA_OP_THREADS", default_value_t = 0)]
    pub intra_op_threads: usize,

    /// Let idle ONNX Runtime threads spin-wait for the next operator instead of sleeping: lower
    /// latency when one module runs at a time, wasted cores when several run at once.
    #[arg(long, env = "INTRA_OP_SPINNING", default_value_t = false, action = clap::ArgAction::Set)]
    pub intra_op_spinning: bool,

    /// After each graph run, return the CPU memory arena's unused regions to the system: resident
    /// memory falls back towards the weights after a large batch instead of staying at its peak,
    /// at the cost of allocating those regions again on the next large batch.
    #[arg(long, env = "ARENA_SHRINKAGE", default_value_t = true, action = clap::ArgAction::Set)]
    pub arena_shrinkage: bool,

    /// Once every module batcher has been idle this many milliseconds, return the memory
    /// allocator's free pages to the system (glibc `malloc_trim`), once per idle spell; 0 never
    /// trims. Freed batch buffers otherwise stay resident inside the allocator's arenas after a
    /// load. Short gaps (between one request's modules, between requests) never trim.
    #[arg(long, env = "IDLE_TRIM_AFTER_MS", default_value_t = 1000)]
    pub idle_trim_after_ms: u64,

    /// ONNX Runtime graph optimisation level.
    #[arg(long, env = "OPTIMIZATION_LEVEL", value_enum, default_value_t = OptimizationLevel::All)]
    pub optimization_level: OptimizationLevel,

    /// Where the TensorRT provider caches its engines between runs.
    #[arg(long, env = "TENSORRT_CACHE_DIR", default_value = ".trt-cache")]
    pub tensorrt_cache_dir: PathBuf,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Cpu,
    Cuda,
    Tensorrt,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptimizationLevel {
    Disable,
    Basic,
    Extended,
    All,
}

impl RuntimeArgs {
    /// The model crate's runtime settings from these flags.
    pub fn resolve(&self) -> RuntimeConfig {
        RuntimeConfig {
            library: self.ort_library.clone(),
            providers: self
                .execution_providers
                .iter()
                .map(|provider| match provider {
                    Provider::Cpu => ExecutionProvider::Cpu,
                    Provider::Cuda => ExecutionProvider::Cuda,
                    Provider::Tensorrt => ExecutionProvider::TensorRt,
                })
                .collect(),
            intra_op_threads: self.intra_op_threads,
            optimization_level: match self.optimization_level {
                OptimizationLevel::Disable => OrtOptimization::Disabled,
                OptimizationLevel::Basic => OrtOptimization::Basic,
                OptimizationLevel::Extended => OrtOptimization::Extended,
                OptimizationLevel::All => OrtOptimization::All,
            },
            tensorrt_cache_dir: Some(self.tensorrt_cache_dir.clone()),
            spin_wait: self.intra_op_spinning,
            arena_shrinkage: self.arena_shrinkage,
        }
    }
}
