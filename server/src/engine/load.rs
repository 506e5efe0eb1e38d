//! Loading a package: open and verify it, load its graphs on the configured ONNX Runtime, warm
//! every graph, then start one batcher per module.

use std::sync::Arc;

use mplug2_model::{
    Model, ModelError,
    decode::DecodeLimits,
    package::{Package, PackageError},
    preprocess::MediaLimits,
    runtime::{ExecutionProvider, OptimizationLevel as OrtOptimization, RuntimeConfig},
};
use tokio::sync::Semaphore;

use super::{
    Batchers, Engine,
    runners::{FusionRunner, HeadsRunner, TextRunner, VisionRunner},
};
use crate::{
    cache::{CrossKvCache, VisionCache},
    config::{Config, ModuleBatching, OptimizationLevel, Provider},
    info::ModelInfo,
    metrics::Metrics,
    scheduler::{
        BatchLimits, BatchRunner, Batcher, BatcherSettings, CostRule, DecoderBatcher,
        DecoderSettings, ModuleMetrics,
    },
};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("model package {dir}: {source}")]
    Package { dir: String, source: PackageError },
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("cannot start a batcher thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// Loads, warms and starts serving the package of `config`. Blocking: run it off the runtime.
pub fn load(config: &Config, metrics: &Metrics) -> Result<Engine, LoadError> {
    let dir = &config.model_dir;
    let package = Package::open(dir).map_err(|source| LoadError::Package {
        dir: dir.display().to_string(),
        source,
    })?;
    let manifest = package.manifest().model.clone();
    let model = Model::load(package, &runtime_config(config), media_limits(config))?;
    for run in 0..config.serving.warmup_runs {
        tracing::debug!(run, "warming up every graph");
        model.warmup()?;
    }
    let info = ModelInfo {
        name: manifest.name,
        source_checkpoint: manifest.source_checkpoint.unwrap_or_default(),
        dtype: manifest.dtype,
        finetuned_for: manifest.finetuned_for,
        model_dir: dir.display().to_string(),
    };
    let mut context = model.task_context();
    context.decode_limits = DecodeLimits {
        max_beam_size: config.limits.max_beam_size,
        max_length: config.limits.max_decode_length,
    };
    let batchers = start_batchers(&model, config, metrics)?;
    metrics
        .info
        .with_label_values(&[
            &info.name,
            model.provider().name(),
            env!("CARGO_PKG_VERSION"),
        ])
        .set(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let package_id = format!("{}|{}|{}", info.name, info.dtype, info.model_dir);
    let vision_cache = VisionCache::new(config.cache.vision_cache_bytes, &package_id, metrics);
    Ok(Engine {
        model: Arc::new(model),
        context,
        batchers,
        vision_cache,
        preprocessing: Arc::new(Semaphore::new(cores)),
        metrics: metrics.clone(),
        info,
    })
}

fn start_batchers(
    model: &Model,
    config: &Config,
    metrics: &Metrics,
) -> Result<Batchers, LoadError> {
    let batching = &config.batching;
    let max_queued = usize::try_from(config.protection.max_queue_items).unwrap_or(usize::MAX);
    let spawn_settings = |settings: ModuleBatching| (settings, max_queued);
    fn spawn<R: BatchRunner>(
        name: &'static str,
        runner: R,
        (settings, max_queued): (ModuleBatching, usize),
        cost_rule: CostRule,
        metrics: &Metrics,
    ) -> std::io::Result<Batcher<R>> {
        let limits = BatchLimits {
            max_size: settings.max_batch_size,
            max_cost: settings.max_batch_cost,
            cost_rule,
        };
        let settings = BatcherSettings {
            limits,
            max_delay: settings.max_batch_delay,
            max_queued,
        };
        Batcher::spawn(name, runner, settings, ModuleMetrics::new(metrics, name))
    }
    let decoder = batching.decoder();
    Ok(Batchers {
        vision: model
            .vision
            .clone()
            .map(|v| {
                spawn(
                    "vision",
                    VisionRunner(v),
                    spawn_settings(batching.vision()),
                    CostRule::Sum,
                    metrics,
                )
            })
            .transpose()?,
        text: model
            .text
            .clone()
            .map(|t| {
                spawn(
                    "text",
                    TextRunner(t),
                    spawn_settings(batching.text()),
                    CostRule::Padded,
                    metrics,
                )
            })
            .transpose()?,
        fusion: model
            .fusion
            .clone()
            .map(|f| {
                spawn(
                    "fusion",
                    FusionRunner(f),
                    spawn_settings(batching.fusion()),
                    CostRule::Padded,
                    metrics,
                )
            })
            .transpose()?,
        heads: model
            .heads
            .clone()
            .map(|h| {
                spawn(
                    "heads",
                    HeadsRunner(h),
                    spawn_settings(batching.heads()),
                    CostRule::Sum,
                    metrics,
                )
            })
            .transpose()?,
        decoder: model
            .decoder
            .clone()
            .map(|d| {
                let settings = DecoderSettings {
                    max_requests: decoder.max_batch_size,
                    max_beams: decoder.max_batch_cost,
                    max_delay: decoder.max_batch_delay,
                    max_queued,
                };
                let cross_cache = CrossKvCache::new(
                    usize::try_from(config.cache.cross_kv_cache_bytes).unwrap_or(usize::MAX),
                    metrics,
                );
                DecoderBatcher::spawn(
                    d,
                    settings,
                    cross_cache,
                    ModuleMetrics::new(metrics, "decoder"),
                )
            })
            .transpose()?,
    })
}

fn runtime_config(config: &Config) -> RuntimeConfig {
    let runtime = &config.runtime;
    RuntimeConfig {
        library: runtime.ort_library.clone(),
        providers: runtime
            .execution_providers
            .iter()
            .map(|provider| match provider {
                Provider::Cpu => ExecutionProvider::Cpu,
                Provider::Cuda => ExecutionProvider::Cuda,
                Provider::Tensorrt => ExecutionProvider::TensorRt,
            })
            .collect(),
        intra_op_threads: runtime.intra_op_threads,
        optimization_level: match runtime.optimization_level {
            OptimizationLevel::Disable => OrtOptimization::Disabled,
            OptimizationLevel::Basic => OrtOptimization::Basic,
            OptimizationLevel::Extended => OrtOptimization::Extended,
            OptimizationLevel::All => OrtOptimization::All,
        },
        tensorrt_cache_dir: Some(runtime.tensorrt_cache_dir.clone()),
        spin_wait: runtime.intra_op_spinning,
        arena_shrinkage: runtime.arena_shrinkage,
    }
}

fn media_limits(config: &Config) -> MediaLimits {
    let limits = &config.limits;
    MediaLimits {
        max_image_bytes: limits.max_image_bytes,
        max_image_side: limits.max_image_side,
        max_image_pixels: limits.max_image_pixels,
        max_video_bytes: limits.max_video_bytes,
        max_video_side: limits.max_video_side,
        max_video_frames: limits.max_video_frames,
        max_frame_list_len: limits.max_frames,
        max_video_duration_s: limits.max_video_duration_s,
    }
}
