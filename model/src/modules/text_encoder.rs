//! The `text_encoder` graph: all text layers (mode `norm`), right-padded batches.

use super::Embeddings;
use super::io::{owned_input, unpad_rows};
use super::padding::pad_ids;
use crate::ModelError;
use crate::package::{GraphName, Package};
use crate::runtime::{Graph, Runtime};

const OUTPUT: &str = "text_embeds";

#[derive(Debug)]
pub struct TextEncoder {
    graph: Graph,
    pad: i64,
    max_tokens: usize,
}

impl TextEncoder {
    pub fn load(runtime: &Runtime, package: &Package) -> Result<TextEncoder, ModelError> {
        let graph = super::load_graph(runtime, package, GraphName::TextEncoder)?;
        graph.expect_io(
            &["input_ids".to_owned(), "attention_mask".to_owned()],
            &[OUTPUT.to_owned()],
        )?;
        let text = &package.manifest().text;
        Ok(TextEncoder {
            graph,
            pad: text.special_tokens.pad,
            max_tokens: text.max_tokens,
        })
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Tokens of an item; the batching cost.
    pub fn cost(&self, input_ids: &[i64]) -> usize {
        input_ids.len()
    }

    /// Encodes token-id sequences of any lengths; returns `[len_i, D]` per item.
    pub fn run(&self, batch: &[&[i64]]) -> Result<Vec<Embeddings>, ModelError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(bad) = batch
            .iter()
            .find(|ids| ids.is_empty() || ids.len() > self.max_tokens)
        {
            return Err(ModelError::InvalidInput(format!(
                "text encoder input has {} tokens (allowed 1..={})",
                bad.len(),
                self.max_tokens
            )));
        }
        let (ids, mask) = pad_ids(batch, self.pad);
        let inputs = vec![
            owned_input("input_ids", ids.into_dyn())?,
            owned_input("attention_mask", mask.into_dyn())?,
        ];
        let lengths: Vec<usize> = batch.iter().map(|ids| ids.len()).collect();
        let name = self.graph.name();
        Ok(self.graph.run(inputs, |outputs| {
            unpad_rows(outputs, name, OUTPUT, &lengths)
        })?)
    }
}
