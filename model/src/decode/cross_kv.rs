//! Cross-attention keys and values of one item's memory, computed once and shared by all its beams.

use ndarray::{Array3, ArrayView3};

/// Per decoder layer, K and V of one memory, `[heads, memory_len, head_dim]`.
#[derive(Debug, Clone)]
pub struct CrossKv {
    keys: Vec<Array3<f32>>,
    values: Vec<Array3<f32>>,
}

impl CrossKv {
    /// `keys` and `values` per layer, all `[heads, len, head_dim]` with the same shape.
    pub fn new(keys: Vec<Array3<f32>>, values: Vec<Array3<f32>>) -> Option<CrossKv> {
        let shape = keys.first()?.raw_dim();
        let consistent = keys.len() == values.len()
            && keys
                .iter()
                .chain(&values)
                .all(|a| a.raw_dim() == shape && a.is_standard_layout());
        consistent.then_some(CrossKv { keys, values })
    }

    pub fn layers(&self) -> usize {
        self.keys.len()
    }

    /// Memory positions (vision tokens, plus question tokens for VQA).
    pub fn len(&self) -> usize {
        self.keys[0].shape()[1]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn key(&self, layer: usize) -> ArrayView3<'_, f32> {
        self.keys[layer].view()
    }

    pub fn value(&self, layer: usize) -> ArrayView3<'_, f32> {
        self.values[layer].view()
    }

    /// Bytes held, for memory accounting.
    pub fn bytes(&self) -> usize {
        self.keys
            .iter()
            .chain(&self.values)
            .map(|a| a.len() * 4)
            .sum()
    }
}
