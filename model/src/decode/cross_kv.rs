//! Cross-attention keys and values of one item's memory, computed once and shared by all its beams.

use ndarray::{Array3, ArrayView3, s};

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

    /// The K/V of the memory `[self's; other's]` (the projection is per position, so this equals
    /// the K/V of the joined memory). `None` when layers, heads or widths differ.
    pub fn concat(&self, other: &CrossKv) -> Option<CrossKv> {
        if self.layers() != other.layers() {
            return None;
        }
        let join = |a: &[Array3<f32>], b: &[Array3<f32>]| -> Option<Vec<Array3<f32>>> {
            a.iter()
                .zip(b)
                .map(|(a, b)| {
                    let (heads, len, width) = a.dim();
                    if (b.dim().0, b.dim().2) != (heads, width) {
                        return None;
                    }
                    // Built in place: a standard layout, as `new` requires.
                    let mut joined = Array3::zeros((heads, len + b.dim().1, width));
                    joined.slice_mut(s![.., ..len, ..]).assign(a);
                    joined.slice_mut(s![.., len.., ..]).assign(b);
                    Some(joined)
                })
                .collect()
        };
        CrossKv::new(
            join(&self.keys, &other.keys)?,
            join(&self.values, &other.values)?,
        )
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
