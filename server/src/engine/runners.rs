//! The module runners the batchers drive, one per module, each over the model crate's runner
//! for that graph. Batch-level failures reach every item as a shared `ModelError`.

use std::sync::Arc;

use mplug2_model::{
    ErrorKind, ModelError,
    modules::{Embeddings, Fusion, FusionInput, Heads, TextEncoder, VisionEncoder},
    preprocess::PixelValues,
};
use ndarray::Array1;

use crate::scheduler::{Abandon, BatchFailure, BatchRunner};

/// A batch's error, shared by every item of the batch.
pub type SharedError = Arc<ModelError>;

impl From<BatchFailure> for SharedError {
    fn from(failure: BatchFailure) -> SharedError {
        Arc::new(ModelError::Executor {
            kind: ErrorKind::Internal,
            message: failure.0,
        })
    }
}

fn shared<T>(result: Result<T, ModelError>) -> Result<T, SharedError> {
    result.map_err(Arc::new)
}

/// Embeddings shared between the pipeline steps that read them (fusion and decoder).
fn shared_embeddings(
    result: Result<Vec<Embeddings>, ModelError>,
) -> Result<Vec<Arc<Embeddings>>, SharedError> {
    Ok(shared(result)?.into_iter().map(Arc::new).collect())
}

pub struct VisionRunner(pub Arc<VisionEncoder>);

impl BatchRunner for VisionRunner {
    type Input = PixelValues;
    type Output = Arc<Embeddings>;
    type Error = SharedError;

    /// Frames are never padded: only items with the same frame count share a batch.
    fn group(&self, pixels: &PixelValues) -> u64 {
        pixels.frames() as u64
    }

    fn cost(&self, pixels: &PixelValues) -> u64 {
        self.0.cost(pixels) as u64
    }

    fn run(&mut self, inputs: &[PixelValues]) -> Result<Vec<Arc<Embeddings>>, SharedError> {
        let batch: Vec<&PixelValues> = inputs.iter().collect();
        shared_embeddings(self.0.run(&batch))
    }

    /// A vision run is the longest module run (a large 16-frame video takes seconds on a CPU):
    /// one nobody waits for any more is stopped at its next graph node.
    fn stops_part_way(&self) -> bool {
        true
    }

    fn run_abandonable(
        &mut self,
        inputs: &[PixelValues],
        abandon: &Abandon,
    ) -> Result<Vec<Arc<Embeddings>>, SharedError> {
        let termination = shared(self.0.termination())?;
        let stop = termination.clone();
        abandon.on_abandon(move || stop.terminate());
        let batch: Vec<&PixelValues> = inputs.iter().collect();
        shared_embeddings(self.0.run_terminable(&batch, &termination))
    }
}

pub struct TextRunner(pub Arc<TextEncoder>);

impl BatchRunner for TextRunner {
    type Input = Vec<i64>;
    type Output = Arc<Embeddings>;
    type Error = SharedError;

    fn cost(&self, input_ids: &Vec<i64>) -> u64 {
        self.0.cost(input_ids) as u64
    }

    fn run(&mut self, inputs: &[Vec<i64>]) -> Result<Vec<Arc<Embeddings>>, SharedError> {
        let batch: Vec<&[i64]> = inputs.iter().map(Vec::as_slice).collect();
        shared_embeddings(self.0.run(&batch))
    }
}

/// One fusion item: the question's text embeddings and the medium's vision embeddings.
pub type FusionItem = (Arc<Embeddings>, Arc<Embeddings>);

pub struct FusionRunner(pub Arc<Fusion>);

impl BatchRunner for FusionRunner {
    type Input = FusionItem;
    type Output = Embeddings;
    type Error = SharedError;

    /// Padded tokens: text and vision rows of the item.
    fn cost(&self, (text, vision): &FusionItem) -> u64 {
        (text.nrows() + vision.nrows()) as u64
    }

    fn run(&mut self, inputs: &[FusionItem]) -> Result<Vec<Embeddings>, SharedError> {
        let batch: Vec<FusionInput<'_>> = inputs
            .iter()
            .map(|(text, vision)| FusionInput { text, vision })
            .collect();
        shared(self.0.run(&batch))
    }
}

/// Which of the three head graphs an item goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    Vision,
    Text,
    Itm,
}

pub struct HeadsRunner(pub Arc<Heads>);

impl BatchRunner for HeadsRunner {
    type Input = (Head, Array1<f32>);
    type Output = Array1<f32>;
    type Error = SharedError;

    /// One batch runs one head graph.
    fn group(&self, (head, _): &(Head, Array1<f32>)) -> u64 {
        *head as u64
    }

    fn run(&mut self, inputs: &[(Head, Array1<f32>)]) -> Result<Vec<Array1<f32>>, SharedError> {
        let Some((head, _)) = inputs.first() else {
            return Ok(Vec::new());
        };
        let rows: Vec<_> = inputs.iter().map(|(_, row)| row.view()).collect();
        shared(match head {
            Head::Vision => self.0.vision(&rows),
            Head::Text => self.0.text(&rows),
            Head::Itm => self.0.itm(&rows),
        })
    }
}
