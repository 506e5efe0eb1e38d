//! The `fusion` graph: text attends to vision in the last `fusion_layers` layers.

use super::Embeddings;
use super::io::{owned_input, unpad_rows};
use super::padding::pad_rows;
use crate::ModelError;
use crate::package::{GraphName, Package};
use crate::runtime::{Graph, Runtime};

const OUTPUT: &str = "fused_text";

/// One item: its (unpadded) text embeddings and vision embeddings.
#[derive(Debug, Clone, Copy)]
pub struct FusionInput<'a> {
    pub text: &'a Embeddings,
    pub vision: &'a Embeddings,
}

#[derive(Debug)]
pub struct Fusion {
    graph: Graph,
}

impl Fusion {
    pub fn load(runtime: &Runtime, package: &Package) -> Result<Fusion, ModelError> {
        let graph = super::load_graph(runtime, package, GraphName::Fusion)?;
        graph.expect_io(
            &[
                "text_embeds".to_owned(),
                "attention_mask".to_owned(),
                "vision_embeds".to_owned(),
                "vision_mask".to_owned(),
            ],
            &[OUTPUT.to_owned()],
        )?;
        Ok(Fusion { graph })
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Text tokens × vision tokens: the cross-attention work of an item.
    pub fn cost(&self, input: &FusionInput<'_>) -> usize {
        input.text.nrows() * input.vision.nrows()
    }

    /// Fuses items of different text and vision lengths; returns `[len_i, D]` fused text per item.
    pub fn run(&self, batch: &[FusionInput<'_>]) -> Result<Vec<Embeddings>, ModelError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<_> = batch.iter().map(|item| item.text.view()).collect();
        let visions: Vec<_> = batch.iter().map(|item| item.vision.view()).collect();
        let (text, text_mask) = pad_rows(&texts);
        let (vision, vision_mask) = pad_rows(&visions);
        let inputs = vec![
            owned_input("text_embeds", text.into_dyn())?,
            owned_input("attention_mask", text_mask.into_dyn())?,
            owned_input("vision_embeds", vision.into_dyn())?,
            owned_input("vision_mask", vision_mask.into_dyn())?,
        ];
        let lengths: Vec<usize> = batch.iter().map(|item| item.text.nrows()).collect();
        let name = self.graph.name();
        Ok(self.graph.run(inputs, |outputs| {
            unpad_rows(outputs, name, OUTPUT, &lengths)
        })?)
    }
}
