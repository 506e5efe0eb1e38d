//! What `/info` and the gRPC `Info` method report, as one struct rendered by both: the model, the
//! tasks served, every limit and batching setting, and the execution provider in use.

use std::sync::Arc;

use serde::Serialize;

use crate::{
    cache::VisionCacheInfo,
    config::Config,
    engine::{Engine, ModelInfo, Models},
    module_table::MODULE_TABLE,
};

#[derive(Debug, Serialize)]
pub struct ServerInfo {
    pub server_version: &'static str,
    pub ready: bool,
    /// The first package; `None` until the packages are loaded.
    pub model: Option<ModelInfo>,
    /// The first package's tasks and provider.
    pub tasks: Vec<String>,
    pub provider: Option<String>,
    /// Every package, in the order of `--model-dir`.
    pub models: Vec<PackageInfo>,
    pub api_key_required: bool,
    pub limits: Limits,
    pub batching: Batching,
    /// The first package's; `None` until the packages are loaded.
    pub vision_cache: Option<VisionCacheInfo>,
}

/// One package served.
#[derive(Debug, Serialize)]
pub struct PackageInfo {
    #[serde(flatten)]
    pub model: ModelInfo,
    pub tasks: Vec<String>,
    pub provider: String,
    pub vision_cache: VisionCacheInfo,
}

impl PackageInfo {
    fn of(engine: &Engine) -> PackageInfo {
        PackageInfo {
            model: engine.info().clone(),
            tasks: engine.task_names(),
            provider: engine.provider_name().to_owned(),
            vision_cache: engine.vision_cache_info(),
        }
    }
}

/// The parts fixed at start-up, rendered once from the flags.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub api_key_required: bool,
    pub limits: Limits,
    pub batching: Batching,
}

#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_image_bytes: usize,
    pub max_image_pixels: u64,
    pub max_image_side: u32,
    pub max_video_bytes: usize,
    pub max_video_side: u32,
    pub max_video_frames: usize,
    pub max_frames: usize,
    pub max_text_chars: usize,
    pub max_inputs: usize,
    pub max_beam_size: usize,
    pub max_decode_length: usize,
    pub max_concurrent_requests: u32,
    pub request_timeout_ms: u64,
    pub max_question_chars: usize,
    pub max_texts: usize,
    pub max_labels: usize,
    pub max_documents: usize,
    pub max_video_duration_s: u64,
    pub max_queue_items: u64,
    pub max_pending_requests: u32,
    pub max_concurrent_fetches: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Batching {
    pub max_batch_delay_ms: u64,
    pub modules: Vec<ModuleInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleInfo {
    pub module: &'static str,
    pub max_batch_size: usize,
    /// `None`: bounded by size only.
    pub max_batch_cost: Option<u64>,
    pub cost_unit: &'static str,
}

impl Settings {
    pub fn new(config: &Config, api_key_required: bool) -> Settings {
        let resolved = config.limits.resolve();
        let (media, decode, request) = (&resolved.media, &resolved.decode, &resolved.request);
        let batching = &config.batching;
        Settings {
            api_key_required,
            limits: Limits {
                max_body_bytes: resolved.max_body_bytes,
                max_image_bytes: media.max_image_bytes,
                max_image_pixels: media.max_image_pixels,
                max_image_side: media.max_image_side,
                max_video_bytes: media.max_video_bytes,
                max_video_side: media.max_video_side,
                max_video_frames: media.max_video_frames,
                max_frames: media.max_frame_list_len,
                max_text_chars: request.max_text_chars,
                max_inputs: request.max_inputs,
                max_beam_size: decode.max_beam_size,
                max_decode_length: decode.max_length,
                max_concurrent_requests: config.serving.max_concurrent_requests,
                request_timeout_ms: config.serving.request_timeout_ms,
                max_question_chars: request.max_question_chars,
                max_texts: request.max_texts,
                max_labels: request.max_labels,
                max_documents: request.max_documents,
                max_video_duration_s: media.max_video_duration_s,
                max_queue_items: config.protection.max_queue_items,
                max_pending_requests: config.protection.max_pending_requests,
                max_concurrent_fetches: config.media_urls.max_concurrent_fetches,
            },
            batching: Batching {
                max_batch_delay_ms: batching.max_batch_delay_ms,
                modules: MODULE_TABLE
                    .iter()
                    .map(|row| {
                        let settings = row.batching(batching);
                        ModuleInfo {
                            module: row.module.name(),
                            max_batch_size: settings.max_batch_size,
                            max_batch_cost: settings.max_batch_cost,
                            cost_unit: row.cost_unit,
                        }
                    })
                    .collect(),
            },
        }
    }
}

impl ServerInfo {
    pub fn collect(settings: &Settings, ready: bool, models: Option<&Models>) -> ServerInfo {
        let engines = models.map_or(&[][..], Models::all);
        let engine = engines.first().map(Arc::as_ref);
        ServerInfo {
            server_version: env!("CARGO_PKG_VERSION"),
            ready,
            model: engine.map(|engine| engine.info().clone()),
            tasks: engine.map(Engine::task_names).unwrap_or_default(),
            provider: engine.map(|engine| engine.provider_name().to_owned()),
            models: engines
                .iter()
                .map(|engine| PackageInfo::of(engine))
                .collect(),
            api_key_required: settings.api_key_required,
            limits: settings.limits.clone(),
            batching: settings.batching.clone(),
            vision_cache: engine.map(Engine::vision_cache_info),
        }
    }
}
