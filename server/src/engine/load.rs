//! Loading a package: open and verify it, load its graphs on the configured ONNX Runtime, warm
//! every graph, then start one batcher per module.

use std::{path::Path, sync::Arc};

use mplug2_model::{
    Model, ModelError,
    decode::DecodeLimits,
    package::{Package, PackageError},
    preprocess::MediaLimits,
    runtime::RuntimeConfig,
};
use tokio::sync::Semaphore;

use super::{
    Engine, ModelInfo,
    batchers::{Batchers, BatchersSettings},
};
use crate::{
    cache::VisionCache,
    config::{BatchingArgs, CacheArgs},
    metrics::Metrics,
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

/// Everything loading needs, resolved from the flags once.
pub struct LoadSettings<'a> {
    pub model_dir: &'a Path,
    pub runtime: RuntimeConfig,
    pub media: MediaLimits,
    pub decode: DecodeLimits,
    pub warmup_runs: u32,
    pub batching: &'a BatchingArgs,
    pub max_queue_items: u64,
    pub cache: &'a CacheArgs,
}

/// Loads, warms and starts serving a package. Blocking: run it off the runtime.
pub fn load(settings: LoadSettings<'_>, metrics: &Metrics) -> Result<Engine, LoadError> {
    let dir = settings.model_dir;
    let package = Package::open(dir).map_err(|source| LoadError::Package {
        dir: dir.display().to_string(),
        source,
    })?;
    let manifest = package.manifest().model.clone();
    let model = Model::load(package, &settings.runtime, settings.media)?;
    for run in 0..settings.warmup_runs {
        tracing::debug!(run, "warming up every graph");
        model.warmup()?;
    }
    let info = ModelInfo {
        name: manifest.name,
        source_checkpoint: manifest.source_checkpoint.unwrap_or_default(),
        dtype: manifest.dtype,
        finetuned_for: manifest.finetuned_for,
        model_dir: dir.display().to_string(),
        created: written_at(&dir.join("manifest.json")),
    };
    let mut context = model.task_context();
    context.decode_limits = settings.decode;
    let batchers = Batchers::start(
        &model,
        &BatchersSettings {
            batching: settings.batching,
            max_queued: usize::try_from(settings.max_queue_items).unwrap_or(usize::MAX),
            cross_kv_cache_bytes: usize::try_from(settings.cache.cross_kv_cache_bytes)
                .unwrap_or(usize::MAX),
        },
        metrics,
    )?;
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
    let vision_cache = VisionCache::new(settings.cache.vision_cache_bytes, &package_id, metrics);
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

/// When a file was last written, in Unix seconds (0 when the file system does not say).
fn written_at(path: &Path) -> u64 {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |age| age.as_secs())
}
