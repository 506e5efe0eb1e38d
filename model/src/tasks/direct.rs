//! Runs every module call inline on the calling thread: the CLI, the tests and the benchmarks.

use std::sync::Arc;

use ndarray::Array1;

use super::executor::{Executor, Memory};
use crate::decode::DecodeParams;
use crate::model::Model;
use crate::modules::{Embeddings, FusionInput};
use crate::package::GraphName;
use crate::preprocess::{Media, PixelValues};
use crate::{ModelError, tasks::Task};

/// An `Executor` with batch size 1 and no queues.
#[derive(Debug, Clone, Copy)]
pub struct DirectExecutor<'a> {
    model: &'a Model,
    num_frames: Option<usize>,
}

impl<'a> DirectExecutor<'a> {
    pub fn new(model: &'a Model) -> DirectExecutor<'a> {
        DirectExecutor {
            model,
            num_frames: None,
        }
    }

    /// Samples this many frames from videos and frame lists instead of the package's count
    /// (`Preprocessor::prepare_frames`); `None` keeps the package's.
    pub fn with_num_frames(self, num_frames: Option<usize>) -> DirectExecutor<'a> {
        DirectExecutor { num_frames, ..self }
    }
}

fn missing(task: Task) -> ModelError {
    ModelError::UnsupportedTask { task }
}

impl Executor for DirectExecutor<'_> {
    async fn prepare(&self, media: Media) -> Result<PixelValues, ModelError> {
        Ok(self
            .model
            .preprocessor
            .prepare_frames(media, self.num_frames)?)
    }

    async fn vision(&self, pixels: PixelValues) -> Result<Arc<Embeddings>, ModelError> {
        let vision = self
            .model
            .vision
            .as_ref()
            .ok_or_else(|| missing(Task::EmbedImage))?;
        Ok(Arc::new(vision.run(&[&pixels])?.remove(0)))
    }

    async fn text(&self, input_ids: Vec<i64>) -> Result<Arc<Embeddings>, ModelError> {
        let text = self
            .model
            .text
            .as_ref()
            .ok_or_else(|| missing(Task::EmbedText))?;
        Ok(Arc::new(text.run(&[&input_ids])?.remove(0)))
    }

    async fn fusion(
        &self,
        text: Arc<Embeddings>,
        vision: Arc<Embeddings>,
    ) -> Result<Embeddings, ModelError> {
        let fusion = self
            .model
            .fusion
            .as_ref()
            .ok_or_else(|| missing(Task::Vqa))?;
        let input = FusionInput {
            text: &text,
            vision: &vision,
        };
        Ok(fusion.run(&[input])?.remove(0))
    }

    async fn decode(
        &self,
        memory: Memory,
        params: DecodeParams,
    ) -> Result<Vec<Vec<i64>>, ModelError> {
        let decoder = self
            .model
            .decoder
            .as_ref()
            .ok_or_else(|| missing(Task::Caption))?;
        Ok(decoder
            .generate_choices(&[memory.joined()?.view()], &[params])?
            .remove(0))
    }

    async fn heads_vision(&self, cls: Array1<f32>) -> Result<Array1<f32>, ModelError> {
        let heads = self.heads(GraphName::HeadsVision, Task::EmbedImage)?;
        Ok(heads.vision(&[cls.view()])?.remove(0))
    }

    async fn heads_text(&self, cls: Array1<f32>) -> Result<Array1<f32>, ModelError> {
        let heads = self.heads(GraphName::HeadsText, Task::EmbedText)?;
        Ok(heads.text(&[cls.view()])?.remove(0))
    }

    async fn heads_itm(&self, cls: Array1<f32>) -> Result<Array1<f32>, ModelError> {
        let heads = self.heads(GraphName::HeadsItm, Task::Match)?;
        Ok(heads.itm(&[cls.view()])?.remove(0))
    }
}

impl DirectExecutor<'_> {
    fn heads(&self, graph: GraphName, task: Task) -> Result<&crate::modules::Heads, ModelError> {
        self.model
            .heads
            .as_deref()
            .filter(|heads| heads.has(graph))
            .ok_or_else(|| missing(task))
    }
}
