//! Loading a package: open and verify it, load its graphs on the configured ONNX Runtime, warm
//! every graph, then start one batcher per module.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use mplug2_model::{
    LoadOptions, Model, ModelError,
    decode::DecodeLimits,
    package::{Package, PackageError},
    preprocess::MediaLimits,
    runtime::RuntimeConfig,
};

use super::{
    Engine, ModelInfo, Models, SelectError,
    batchers::{Batchers, BatchersSettings},
    media_decode::MediaDecoding,
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
    #[error(
        "two packages are named `{name}` ({first} and {second}); names pick packages, so they must differ"
    )]
    DuplicateName {
        name: String,
        first: String,
        second: String,
    },
    #[error(
        "the packages' weights are {total} bytes (graphs they share counted once), over the limit of {limit} (--max-model-bytes): {}",
        .each.iter().map(|(name, bytes)| format!("{name} {bytes}")).collect::<Vec<_>>().join(", ")
    )]
    OverBudget {
        total: u64,
        limit: u64,
        each: Vec<(String, u64)>,
    },
    #[error("--default-model: {0}")]
    DefaultModel(#[from] SelectError),
}

/// Everything loading needs, resolved from the flags once.
pub struct LoadSettings<'a> {
    pub model_dirs: &'a [PathBuf],
    pub default_model: Option<&'a str>,
    /// `--max-model-bytes` (0: no budget).
    pub max_model_bytes: u64,
    pub runtime: RuntimeConfig,
    pub media: MediaLimits,
    pub decode: DecodeLimits,
    pub warmup_runs: u32,
    pub batching: &'a BatchingArgs,
    pub max_queue_items: u64,
    pub cache: &'a CacheArgs,
}

/// Opens every package (names must differ, the weights fit the budget), loads them in order —
/// a graph byte-identical to one already loaded is not loaded again — warms them and starts
/// their batchers. Blocking: run it off the runtime.
pub fn load(settings: LoadSettings<'_>, metrics: &Metrics) -> Result<Models, LoadError> {
    let packages = settings
        .model_dirs
        .iter()
        .map(|dir| {
            Package::open(dir).map_err(|source| LoadError::Package {
                dir: dir.display().to_string(),
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_names(&packages)?;
    check_budget(&packages, settings.max_model_bytes)?;
    let mut models: Vec<Model> = Vec::with_capacity(packages.len());
    for package in packages {
        let loaded: Vec<&Model> = models.iter().collect();
        let model = Model::load_sharing(
            package,
            &settings.runtime,
            settings.media,
            LoadOptions::default(),
            &loaded,
        )?;
        for run in 0..settings.warmup_runs {
            tracing::debug!(run, "warming up every graph");
            model.warmup()?;
        }
        models.push(model);
    }
    let engines = models
        .into_iter()
        .map(|model| engine(model, &settings, metrics).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Models::new(engines, settings.default_model)?)
}

fn check_names(packages: &[Package]) -> Result<(), LoadError> {
    for (index, package) in packages.iter().enumerate() {
        let name = &package.manifest().model.name;
        if let Some(earlier) = packages[..index]
            .iter()
            .find(|p| &p.manifest().model.name == name)
        {
            return Err(LoadError::DuplicateName {
                name: name.clone(),
                first: earlier.dir().display().to_string(),
                second: package.dir().display().to_string(),
            });
        }
    }
    Ok(())
}

fn check_budget(packages: &[Package], limit: u64) -> Result<(), LoadError> {
    // Each package's graphs read once: its own total, and (a graph two packages share is loaded
    // once, so it weighs once) the distinct graphs of all.
    let mut distinct: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut each: Vec<(String, u64)> = Vec::with_capacity(packages.len());
    for package in packages {
        let graphs = package.graph_weights();
        let name = package.manifest().model.name.clone();
        let bytes = graphs.iter().map(|(_, bytes)| bytes).sum();
        tracing::info!(model = name, weight_bytes = bytes, "package weights");
        distinct.extend(graphs);
        each.push((name, bytes));
    }
    let total = distinct.values().sum();
    tracing::info!(
        weight_bytes = total,
        "all packages' weights, shared graphs once"
    );
    if limit > 0 && total > limit {
        return Err(LoadError::OverBudget { total, limit, each });
    }
    Ok(())
}

/// One loaded package behind its batchers and caches.
fn engine(
    model: Model,
    settings: &LoadSettings<'_>,
    metrics: &Metrics,
) -> Result<Engine, LoadError> {
    let package = model.package();
    let manifest = package.manifest().model.clone();
    let dir = package.dir().to_path_buf();
    let info = ModelInfo {
        name: manifest.name,
        source_checkpoint: manifest.source_checkpoint.unwrap_or_default(),
        dtype: manifest.dtype,
        finetuned_for: manifest.finetuned_for,
        model_dir: dir.display().to_string(),
        created: written_at(&dir.join("manifest.json")),
        weight_bytes: package.weight_bytes(),
    };
    let mut context = model.task_context();
    context.decode_limits = settings.decode;
    let batchers = Batchers::start(
        &model,
        &BatchersSettings {
            model: &info.name,
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
    let vision_cache = VisionCache::new(
        settings.cache.vision_cache_bytes,
        &package_id,
        &info.name,
        metrics,
    );
    Ok(Engine {
        model: Arc::new(model),
        context,
        batchers,
        vision_cache,
        media_decoding: MediaDecoding::new(cores, metrics, &info.name),
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
