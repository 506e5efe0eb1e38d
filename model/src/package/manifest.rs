//! `manifest.json` as serde types (docs/model-package.md is the contract).
//! Unknown fields are ignored so that a newer exporter can add information.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The package format this crate reads.
pub const FORMAT_VERSION: u32 = 1;

/// The weight dtypes a package may declare (`model.dtype`). Graph inputs and outputs are float32
/// whatever the dtype, so nothing else on this side depends on it: fp16 and int8 graphs convert or
/// quantize inside themselves (int8: weights int8, activations quantized at run time).
pub const DTYPES: [&str; 3] = ["fp32", "fp16", "int8"];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub model: ModelInfo,
    pub config: ModelConfig,
    pub preprocess: PreprocessConfig,
    pub text: TextConfig,
    pub decoding: DecodingConfig,
    #[serde(default)]
    pub classify: Option<ClassifyConfig>,
    pub tasks: Vec<String>,
    pub graphs: BTreeMap<String, GraphEntry>,
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    #[serde(default)]
    pub source_checkpoint: Option<String>,
    #[serde(default)]
    pub source_checkpoint_sha256: Option<String>,
    #[serde(default)]
    pub finetuned_for: Option<String>,
    #[serde(default)]
    pub exporter_version: Option<String>,
    /// One of [`DTYPES`]; reported in `/info` and the log.
    #[serde(default = "default_dtype")]
    pub dtype: String,
}

fn default_dtype() -> String {
    "fp32".to_owned()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelConfig {
    pub vision: VisionConfig,
    pub text: TextModelConfig,
    #[serde(default)]
    pub heads: Option<HeadsConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisionConfig {
    pub width: usize,
    pub layers: usize,
    pub heads: usize,
    pub patch_size: usize,
    pub image_size: usize,
}

impl VisionConfig {
    /// Patch tokens per frame, (S/patch)².
    pub fn patches_per_frame(&self) -> usize {
        let side = self.image_size / self.patch_size;
        side * side
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TextModelConfig {
    pub hidden_size: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub text_encoder_layers: usize,
    pub num_uni_layer: usize,
    pub fusion_layers: usize,
    pub text_decode_layers: usize,
    pub vocab_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default)]
    pub num_latents: Option<usize>,
    #[serde(default)]
    pub layer_norm_eps: Option<f64>,
}

impl TextModelConfig {
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeadsConfig {
    pub embed_dim: usize,
    pub temp: f32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreprocessConfig {
    pub image_size: usize,
    pub resize: String,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub num_frames: usize,
    pub sampling: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TextConfig {
    pub question: TextRule,
    pub caption: TextRule,
    pub max_tokens: usize,
    pub special_tokens: SpecialTokens,
    #[serde(default)]
    pub add_sep: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TextRule {
    pub rule: String,
    pub max_words: usize,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SpecialTokens {
    pub pad: i64,
    pub unk: i64,
    pub cls: i64,
    pub sep: i64,
    pub mask: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecodingConfig {
    pub caption: TaskDecoding,
    pub vqa: TaskDecoding,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskDecoding {
    pub beam_size: usize,
    pub min_length: usize,
    pub max_length: usize,
    pub length_penalty: f32,
    pub bos_token_id: i64,
    pub eos_token_id: i64,
    #[serde(default)]
    pub prompt: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassifyConfig {
    pub prompt_template: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphEntry {
    pub file: String,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub external_data: Vec<String>,
    #[serde(default)]
    pub inputs: Vec<TensorSpec>,
    #[serde(default)]
    pub outputs: Vec<TensorSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TensorSpec {
    pub name: String,
    pub dtype: String,
    #[serde(default)]
    pub shape: Vec<serde_json::Value>,
}
