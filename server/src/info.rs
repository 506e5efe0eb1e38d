//! What `/info` and the gRPC `Info` method report: the model, the tasks served, every limit and
//! batching setting, and the execution provider in use.

use serde::Serialize;

use crate::{cache::VisionCacheInfo, config::ModuleBatching, service::Inference};

#[derive(Debug, Serialize)]
pub struct ServerInfo {
    pub server_version: &'static str,
    pub ready: bool,
    /// `None` until the package is loaded.
    pub model: Option<ModelInfo>,
    pub tasks: Vec<String>,
    pub provider: Option<String>,
    pub api_key_required: bool,
    pub limits: Limits,
    pub batching: Batching,
    /// `None` until the package is loaded.
    pub vision_cache: Option<VisionCacheInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub name: String,
    pub source_checkpoint: String,
    pub dtype: String,
    pub finetuned_for: Option<String>,
    pub model_dir: String,
}

#[derive(Debug, Serialize)]
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
    pub max_video_duration_s: u64,
    pub max_queue_items: u64,
    pub max_pending_requests: u32,
}

#[derive(Debug, Serialize)]
pub struct Batching {
    pub max_batch_delay_ms: u64,
    pub modules: Vec<ModuleInfo>,
}

#[derive(Debug, Serialize)]
pub struct ModuleInfo {
    pub module: &'static str,
    pub max_batch_size: usize,
    /// `None`: bounded by size only.
    pub max_batch_cost: Option<u64>,
    pub cost_unit: &'static str,
}

impl ServerInfo {
    pub fn collect(inference: &Inference) -> ServerInfo {
        let config = inference.config();
        let limits = &config.limits;
        let batching = &config.batching;
        let engine = inference.engine();
        let module = |module, cost_unit, settings: ModuleBatching| ModuleInfo {
            module,
            max_batch_size: settings.max_batch_size,
            max_batch_cost: settings.max_batch_cost,
            cost_unit,
        };
        ServerInfo {
            server_version: env!("CARGO_PKG_VERSION"),
            ready: inference.health().is_ready(),
            model: engine.map(|engine| engine.model_info().clone()),
            tasks: engine.map(|engine| engine.task_names()).unwrap_or_default(),
            provider: engine.map(|engine| engine.provider_name().to_owned()),
            api_key_required: inference.api_key_required(),
            limits: Limits {
                max_body_bytes: limits.max_body_bytes,
                max_image_bytes: limits.max_image_bytes,
                max_image_pixels: limits.max_image_pixels,
                max_image_side: limits.max_image_side,
                max_video_bytes: limits.max_video_bytes,
                max_video_side: limits.max_video_side,
                max_video_frames: limits.max_video_frames,
                max_frames: limits.max_frames,
                max_text_chars: limits.max_text_chars,
                max_inputs: limits.max_inputs,
                max_beam_size: limits.max_beam_size,
                max_decode_length: limits.max_decode_length,
                max_concurrent_requests: config.serving.max_concurrent_requests,
                request_timeout_ms: config.serving.request_timeout_ms,
                max_question_chars: limits.max_question_chars,
                max_texts: limits.max_texts,
                max_labels: limits.max_labels,
                max_video_duration_s: limits.max_video_duration_s,
                max_queue_items: config.protection.max_queue_items,
                max_pending_requests: config.protection.max_pending_requests,
            },
            batching: Batching {
                max_batch_delay_ms: batching.max_batch_delay_ms,
                modules: vec![
                    module("vision", "vision tokens", batching.vision()),
                    module("text", "padded tokens", batching.text()),
                    module("fusion", "padded tokens", batching.fusion()),
                    module("decoder", "beams", batching.decoder()),
                    module("heads", "items", batching.heads()),
                ],
            },
            vision_cache: engine.map(|engine| engine.vision_cache_info()),
        }
    }
}
