//! The seam between the task pipelines and whoever runs the modules: the model crate's
//! `DirectExecutor` runs each call inline; the server implements this with its batchers.

use std::future::Future;
use std::sync::Arc;

use ndarray::{Array1, Axis, concatenate};

use crate::ModelError;
use crate::decode::DecodeParams;
use crate::modules::Embeddings;
use crate::preprocess::{Media, PixelValues};

/// A decoder memory: the vision embeddings (caption), followed by the fused question (VQA).
/// The parts stay apart because the decoder's cross K/V are a per-position projection of the
/// memory: the vision part's K/V depend on the vision embeddings alone, so a server can reuse
/// them for every question about the same medium.
#[derive(Debug, Clone)]
pub struct Memory {
    pub vision: Arc<Embeddings>,
    pub question: Option<Arc<Embeddings>>,
}

impl Memory {
    /// The whole memory as one array, `[vision; question]`.
    pub fn joined(&self) -> Result<Embeddings, ModelError> {
        let Some(question) = &self.question else {
            return Ok(self.vision.as_ref().clone());
        };
        concatenate(Axis(0), &[self.vision.view(), question.view()]).map_err(|error| {
            ModelError::InvalidInput(format!("vision and question widths differ: {error}"))
        })
    }
}

/// One method per module call. Futures must be `Send` so that the server can spawn pipelines.
pub trait Executor: Sync {
    /// Decode, sample, resize and normalize (CPU work; the server runs it off the async runtime).
    fn prepare(&self, media: Media)
    -> impl Future<Output = Result<PixelValues, ModelError>> + Send;
    fn vision(
        &self,
        pixels: PixelValues,
    ) -> impl Future<Output = Result<Arc<Embeddings>, ModelError>> + Send;
    fn text(
        &self,
        input_ids: Vec<i64>,
    ) -> impl Future<Output = Result<Arc<Embeddings>, ModelError>> + Send;
    fn fusion(
        &self,
        text: Arc<Embeddings>,
        vision: Arc<Embeddings>,
    ) -> impl Future<Output = Result<Embeddings, ModelError>> + Send;
    /// Decodes to the end (beam search or sampling, by `params.strategy`): the
    /// `params.num_results` results, leading BOS included; the best hypothesis first, or the
    /// samples in row order.
    fn decode(
        &self,
        memory: Memory,
        params: DecodeParams,
    ) -> impl Future<Output = Result<Vec<Vec<i64>>, ModelError>> + Send;
    fn heads_vision(
        &self,
        cls: Array1<f32>,
    ) -> impl Future<Output = Result<Array1<f32>, ModelError>> + Send;
    fn heads_text(
        &self,
        cls: Array1<f32>,
    ) -> impl Future<Output = Result<Array1<f32>, ModelError>> + Send;
    fn heads_itm(
        &self,
        cls: Array1<f32>,
    ) -> impl Future<Output = Result<Array1<f32>, ModelError>> + Send;
}
