//! What the task pipelines need to know about the package, independent of how modules run.

use std::sync::Arc;

use crate::ModelError;
use crate::decode::{DecodeLimits, DecodeOverrides, DecodeParams};
use crate::package::Manifest;
use crate::text::TextProcessor;

use super::Task;

#[derive(Debug, Clone)]
pub struct TaskContext {
    pub text: Arc<TextProcessor>,
    pub caption: DecodeParams,
    /// Cut from generated captions (the reference keeps the text after its last occurrence).
    pub caption_prompt: Option<String>,
    pub vqa: DecodeParams,
    pub decode_limits: DecodeLimits,
    /// How a label becomes the text encoded for classify (`{}` is the label).
    pub classify_template: String,
    /// Similarity temperature of the heads (classify divides cosines by it).
    pub temp: Option<f32>,
    /// Width of the retrieval embeddings (the heads' `embed_dim`).
    pub embed_dim: Option<usize>,
    pub tasks: Vec<Task>,
}

impl TaskContext {
    pub fn new(manifest: &Manifest, text: Arc<TextProcessor>, tasks: Vec<Task>) -> TaskContext {
        TaskContext {
            text,
            caption: DecodeParams::from_manifest(&manifest.decoding.caption),
            caption_prompt: manifest.decoding.caption.prompt.clone(),
            vqa: DecodeParams::from_manifest(&manifest.decoding.vqa),
            decode_limits: DecodeLimits::default(),
            classify_template: manifest
                .classify
                .as_ref()
                .map_or_else(|| "{}".to_owned(), |c| c.prompt_template.clone()),
            temp: manifest.config.heads.as_ref().map(|h| h.temp),
            embed_dim: manifest.config.heads.as_ref().map(|h| h.embed_dim),
            tasks,
        }
    }

    /// Fails with `UnsupportedTask` unless the package serves the task.
    pub fn require(&self, task: Task) -> Result<(), ModelError> {
        if self.tasks.contains(&task) {
            Ok(())
        } else {
            Err(ModelError::UnsupportedTask { task })
        }
    }

    /// The caption settings with a request's overrides, checked (`with_overrides`, then
    /// `validate`).
    pub fn caption_params(&self, overrides: DecodeOverrides) -> Result<DecodeParams, ModelError> {
        self.checked(self.caption, overrides)
    }

    /// The VQA settings with a request's overrides, checked.
    pub fn vqa_params(&self, overrides: DecodeOverrides) -> Result<DecodeParams, ModelError> {
        self.checked(self.vqa, overrides)
    }

    fn checked(
        &self,
        base: DecodeParams,
        overrides: DecodeOverrides,
    ) -> Result<DecodeParams, ModelError> {
        let params = base.with_overrides(overrides, self.decode_limits)?;
        params.validate()?;
        Ok(params)
    }
}
