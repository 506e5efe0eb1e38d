//! The `vision` graph: VideoFormer + universal layers + `visn_emb_norm`.

use ndarray::{Array5, Axis, s};
use ort::session::SessionOutputs;

use super::Embeddings;
use super::io::{owned_input, unpad_rows, view_input};
use crate::ModelError;
use crate::package::{GraphName, Package};
use crate::preprocess::PixelValues;
use crate::runtime::{Graph, Runtime, Termination};

const INPUT: &str = "pixel_values";
const OUTPUT: &str = "vision_embeds";

#[derive(Debug)]
pub struct VisionEncoder {
    graph: Graph,
    patches_per_frame: usize,
    image_size: usize,
}

impl VisionEncoder {
    pub fn load(runtime: &Runtime, package: &Package) -> Result<VisionEncoder, ModelError> {
        let graph = super::load_graph(runtime, package, GraphName::Vision)?;
        graph.expect_io(&[INPUT.to_owned()], &[OUTPUT.to_owned()])?;
        let config = &package.manifest().config.vision;
        Ok(VisionEncoder {
            graph,
            patches_per_frame: config.patches_per_frame(),
            image_size: package.manifest().preprocess.image_size,
        })
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Output tokens for an item: 1 + frames × patches. Also the batching cost.
    pub fn cost(&self, pixels: &PixelValues) -> usize {
        1 + pixels.frames() * self.patches_per_frame
    }

    /// Encodes a batch; every item must have the same frame count (the temporal convolution
    /// would see padded frames, so frames are never padded).
    pub fn run(&self, batch: &[&PixelValues]) -> Result<Vec<Embeddings>, ModelError> {
        self.encode(batch, None)
    }

    /// Options for a run that another thread may stop (`run_terminable`).
    pub fn termination(&self) -> Result<Termination, ModelError> {
        Ok(self.graph.termination()?)
    }

    /// `run`, stopped part-way (an error) once `termination` is terminated.
    pub fn run_terminable(
        &self,
        batch: &[&PixelValues],
        termination: &Termination,
    ) -> Result<Vec<Embeddings>, ModelError> {
        self.encode(batch, Some(termination))
    }

    fn encode(
        &self,
        batch: &[&PixelValues],
        termination: Option<&Termination>,
    ) -> Result<Vec<Embeddings>, ModelError> {
        let Some(first) = batch.first() else {
            return Ok(Vec::new());
        };
        let frames = first.frames();
        if let Some(other) = batch
            .iter()
            .find(|p| p.frames() != frames || p.size() != first.size())
        {
            return Err(ModelError::InvalidInput(format!(
                "a vision batch must share frames and size: {}x{} vs {}x{}",
                frames,
                first.size(),
                other.frames(),
                other.size()
            )));
        }
        if first.size() != self.image_size {
            return Err(ModelError::InvalidInput(format!(
                "pixel values are {} px, the package expects {}",
                first.size(),
                self.image_size
            )));
        }
        let input = if batch.len() == 1 {
            view_input(INPUT, first.view().insert_axis(Axis(0)))?
        } else {
            let (size, b) = (first.size(), batch.len());
            let mut stacked = Array5::<f32>::zeros((b, 3, frames, size, size));
            for (i, pixels) in batch.iter().enumerate() {
                stacked
                    .slice_mut(s![i, .., .., .., ..])
                    .assign(&pixels.view());
            }
            owned_input(INPUT, stacked.into_dyn())?
        };
        let lengths = vec![1 + frames * self.patches_per_frame; batch.len()];
        let name = self.graph.name();
        let read = |outputs: &SessionOutputs<'_>| unpad_rows(outputs, name, OUTPUT, &lengths);
        Ok(match termination {
            Some(termination) => self.graph.run_terminable(vec![input], read, termination),
            None => self.graph.run(vec![input], read),
        }?)
    }
}
