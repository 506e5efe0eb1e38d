//! One ONNX graph in one session, shareable between threads.

use std::path::Path;
use std::sync::{Arc, Mutex};

use ort::ep;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::session::{RunOptions, Session, SessionInputValue, SessionOutputs};

use super::{ExecutionProvider, OptimizationLevel, Runtime, RuntimeError};
use crate::package::GraphName;

/// A loaded graph. The session sits behind a mutex because running needs `&mut`; in the
/// server one batcher thread drives each graph, so the lock is uncontended.
#[derive(Debug)]
pub struct Graph {
    name: GraphName,
    provider: ExecutionProvider,
    inputs: Vec<String>,
    outputs: Vec<String>,
    session: Mutex<Session>,
    /// Set when the CPU arena shrinks after every run.
    run_options: Option<ShrinkArena>,
}

impl Graph {
    /// Builds a session for `path`, trying the configured providers in order.
    pub fn load(runtime: &Runtime, name: GraphName, path: &Path) -> Result<Graph, RuntimeError> {
        let mut failures = Vec::new();
        let providers = &runtime.config.providers;
        for (index, provider) in providers.iter().enumerate() {
            let builder = match session_builder(runtime, &providers[index..]) {
                Ok(builder) => builder,
                Err(reason) => {
                    tracing::warn!(graph = %name, %provider, %reason, "execution provider not usable");
                    failures.push(format!("{provider}: {reason}"));
                    continue;
                }
            };
            let session = commit(builder, path, name)?;
            let run_options = if runtime.config.arena_shrinkage {
                Some(arena_shrinkage().map_err(|error| {
                    RuntimeError::ort(format!("configuring runs of {name}"), error)
                })?)
            } else {
                None
            };
            tracing::info!(graph = %name, %provider, "graph loaded");
            return Ok(Graph {
                name,
                provider: *provider,
                inputs: session
                    .inputs()
                    .iter()
                    .map(|i| i.name().to_owned())
                    .collect(),
                outputs: session
                    .outputs()
                    .iter()
                    .map(|o| o.name().to_owned())
                    .collect(),
                session: Mutex::new(session),
                run_options,
            });
        }
        Err(RuntimeError::NoProvider {
            graph: name.to_string(),
            reasons: if failures.is_empty() {
                "the provider list is empty".to_owned()
            } else {
                failures.join("; ")
            },
        })
    }

    pub fn name(&self) -> GraphName {
        self.name
    }

    pub fn provider(&self) -> ExecutionProvider {
        self.provider
    }

    pub fn input_names(&self) -> &[String] {
        &self.inputs
    }

    pub fn output_names(&self) -> &[String] {
        &self.outputs
    }

    /// Fails unless the graph has exactly these inputs and at least these outputs.
    pub fn expect_io(&self, inputs: &[String], outputs: &[String]) -> Result<(), RuntimeError> {
        let mut have: Vec<&str> = self.inputs.iter().map(String::as_str).collect();
        let mut want: Vec<&str> = inputs.iter().map(String::as_str).collect();
        have.sort_unstable();
        want.sort_unstable();
        if have != want {
            return Err(RuntimeError::GraphContract {
                graph: self.name.to_string(),
                problem: format!("inputs are {have:?}, expected {want:?}"),
            });
        }
        if let Some(missing) = outputs.iter().find(|o| !self.outputs.contains(o)) {
            return Err(RuntimeError::GraphContract {
                graph: self.name.to_string(),
                problem: format!("has no output `{missing}` (outputs: {:?})", self.outputs),
            });
        }
        Ok(())
    }

    /// Runs the graph and hands the outputs to `read` while the session is still borrowed.
    pub fn run<'v, R>(
        &self,
        inputs: Vec<(String, SessionInputValue<'v>)>,
        read: impl FnOnce(&SessionOutputs<'_>) -> Result<R, RuntimeError>,
    ) -> Result<R, RuntimeError> {
        self.run_with(inputs, read, self.run_options.as_ref().map(|o| &o.0))
    }

    /// Options for one run that another thread may stop (`run_terminable`), configured as this
    /// graph's other runs are.
    pub fn termination(&self) -> Result<Termination, RuntimeError> {
        let options = match self.run_options {
            Some(_) => arena_shrinkage().map(|shrink| shrink.0),
            None => RunOptions::new(),
        }
        .map_err(|error| RuntimeError::ort(format!("configuring a run of {}", self.name), error))?;
        Ok(Termination(Arc::new(options)))
    }

    /// `run`, stopped part-way (an error) once `termination` is terminated: ONNX Runtime looks
    /// at the flag between nodes.
    pub fn run_terminable<'v, R>(
        &self,
        inputs: Vec<(String, SessionInputValue<'v>)>,
        read: impl FnOnce(&SessionOutputs<'_>) -> Result<R, RuntimeError>,
        termination: &Termination,
    ) -> Result<R, RuntimeError> {
        self.run_with(inputs, read, Some(&termination.0))
    }

    fn run_with<'v, R>(
        &self,
        inputs: Vec<(String, SessionInputValue<'v>)>,
        read: impl FnOnce(&SessionOutputs<'_>) -> Result<R, RuntimeError>,
        options: Option<&RunOptions>,
    ) -> Result<R, RuntimeError> {
        // A panic elsewhere while holding the lock leaves the session usable: recover the guard.
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let outputs = match options {
            Some(options) => session.run_with_options(inputs, options),
            None => session.run(inputs),
        }
        .map_err(|error| RuntimeError::ort(format!("running {}", self.name), error))?;
        read(&outputs)
    }
}

/// The options of one run that another thread can stop (cheap to clone).
#[derive(Clone)]
pub struct Termination(Arc<RunOptions>);

impl Termination {
    /// Asks the run to stop at its next node; a run not started yet stops at once.
    pub fn terminate(&self) {
        if let Err(error) = self.0.terminate() {
            tracing::warn!(%error, "could not ask a run to stop");
        }
    }
}

impl std::fmt::Debug for Termination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Termination")
    }
}

/// Run options that release the CPU arena's free regions when a run ends.
struct ShrinkArena(RunOptions);

impl std::fmt::Debug for ShrinkArena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShrinkArena")
    }
}

fn arena_shrinkage() -> ort::Result<ShrinkArena> {
    let mut options = RunOptions::new()?;
    options.set("memory.enable_memory_arena_shrinkage", "cpu:0")?;
    Ok(ShrinkArena(options))
}

/// A builder whose first provider must register; the providers after it are registered as
/// fallbacks for the nodes the first cannot take (TensorRT → CUDA → CPU).
fn session_builder(
    runtime: &Runtime,
    providers: &[ExecutionProvider],
) -> Result<SessionBuilder, String> {
    let config = &runtime.config;
    let level = match config.optimization_level {
        OptimizationLevel::Disabled => GraphOptimizationLevel::Disable,
        OptimizationLevel::Basic => GraphOptimizationLevel::Level1,
        OptimizationLevel::Extended => GraphOptimizationLevel::Level2,
        OptimizationLevel::All => GraphOptimizationLevel::All,
    };
    let mut builder = Session::builder(&runtime.environment)
        .map_err(|e| e.to_string())?
        .with_optimization_level(level)
        .map_err(|e| e.to_string())?
        .with_intra_op_spinning(config.spin_wait)
        .map_err(|e| e.to_string())?;
    if config.intra_op_threads > 0 {
        builder = builder
            .with_intra_threads(config.intra_op_threads)
            .map_err(|e| e.to_string())?;
    }
    let mut dispatches = Vec::new();
    for (index, provider) in providers.iter().enumerate() {
        let dispatch = match provider {
            // CPU is ONNX Runtime's own fallback: nothing to register.
            ExecutionProvider::Cpu => break,
            ExecutionProvider::Cuda => ep::CUDA::default().build(),
            ExecutionProvider::TensorRt => tensorrt(config.tensorrt_cache_dir.as_deref()),
        };
        dispatches.push(if index == 0 {
            dispatch.error_on_failure()
        } else {
            dispatch
        });
    }
    if dispatches.is_empty() {
        return Ok(builder);
    }
    builder
        .with_execution_providers(dispatches)
        .map_err(|e| e.to_string())
}

fn tensorrt(cache_dir: Option<&Path>) -> ep::ExecutionProviderDispatch {
    let mut trt = ep::TensorRT::default();
    if let Some(dir) = cache_dir {
        trt = trt
            .with_engine_cache(true)
            .with_engine_cache_path(dir.display())
            .with_timing_cache(true)
            .with_timing_cache_path(dir.display());
    }
    trt.build()
}

fn commit(
    mut builder: SessionBuilder,
    path: &Path,
    name: GraphName,
) -> Result<Session, RuntimeError> {
    builder.commit_from_file(path).map_err(|error| {
        RuntimeError::ort(
            format!("loading graph {name} from {}", path.display()),
            error,
        )
    })
}
