//! The sequences decoding together (continuous batching): they join and leave between steps.

use std::sync::Arc;

use ndarray::{Array2, Array4, ArrayView2, ArrayView4, Axis, s};

use super::{CrossKv, Sequence};

/// Active sequences, plus their cross K/V packed into batch tensors. The packing is kept while
/// the membership is unchanged, so a step does not re-copy every item's cross K/V.
#[derive(Debug, Default)]
pub struct DecodeBatch {
    pub(crate) members: Vec<(u64, Sequence)>,
    packed: Option<PackedCross>,
}

#[derive(Debug)]
struct PackedCross {
    ids: Vec<u64>,
    keys: Vec<Array4<f32>>,
    values: Vec<Array4<f32>>,
    mask: Array2<i64>,
}

/// The cross-attention inputs of one step, `[B, heads, S, head_dim]` per layer and `[B, S]`.
pub(crate) struct CrossInputs<'a> {
    pub keys: Vec<ArrayView4<'a, f32>>,
    pub values: Vec<ArrayView4<'a, f32>>,
    pub mask: ArrayView2<'a, i64>,
}

impl<'a> CrossInputs<'a> {
    /// One item's cross K/V as a batch of one (`mask` is that item's all-ones `[1, S]`).
    pub(crate) fn single(cross: &'a CrossKv, mask: &'a Array2<i64>) -> CrossInputs<'a> {
        CrossInputs {
            keys: (0..cross.layers())
                .map(|l| cross.key(l).insert_axis(Axis(0)))
                .collect(),
            values: (0..cross.layers())
                .map(|l| cross.value(l).insert_axis(Axis(0)))
                .collect(),
            mask: mask.view(),
        }
    }
}

impl DecodeBatch {
    pub fn new() -> DecodeBatch {
        DecodeBatch::default()
    }

    /// Adds a sequence; it takes part from the next step on.
    pub fn add(&mut self, id: u64, sequence: Sequence) {
        self.members.push((id, sequence));
    }

    /// Removes a sequence (for example a cancelled request).
    pub fn remove(&mut self, id: u64) -> Option<Sequence> {
        let at = self.members.iter().position(|(member, _)| *member == id)?;
        let removed = self.members.remove(at).1;
        self.release_stale_packing();
        Some(removed)
    }

    /// Removes the finished sequences and returns their best token ids (with the leading BOS).
    pub fn take_finished(&mut self) -> Vec<(u64, Vec<i64>)> {
        let mut finished = Vec::new();
        self.members
            .retain(|(id, sequence)| match sequence.search.result() {
                Some(tokens) => {
                    finished.push((*id, tokens.to_vec()));
                    false
                }
                None => true,
            });
        if !finished.is_empty() {
            self.release_stale_packing();
        }
        finished
    }

    /// The packing no longer matches the members: free it now rather than at the next step's
    /// repacking, so that an idle decoder holds no copy of its last batch's cross K/V.
    fn release_stale_packing(&mut self) {
        let ids: Vec<u64> = self.ids().collect();
        if self.packed.as_ref().is_some_and(|p| p.ids != ids) {
            self.packed = None;
        }
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.members.iter().map(|(id, _)| *id)
    }

    pub fn get(&self, id: u64) -> Option<&Sequence> {
        self.members.iter().find(|(m, _)| *m == id).map(|(_, s)| s)
    }

    /// Sum of the members' step costs.
    pub fn cost(&self) -> usize {
        self.members.iter().map(|(_, s)| s.cost()).sum()
    }

    /// Makes the cross K/V of a step ready: a single member's own arrays are used as they are
    /// (returned here); several members use the packed batch, rebuilt only if membership changed.
    pub(crate) fn prepare_cross(&mut self) -> Option<Arc<CrossKv>> {
        if let [(_, only)] = self.members.as_slice() {
            return Some(Arc::clone(&only.cross));
        }
        let ids: Vec<u64> = self.ids().collect();
        if self.packed.as_ref().is_none_or(|p| p.ids != ids) {
            self.packed = Some(self.pack(ids));
        }
        None
    }

    /// The members (to advance) and the packed cross K/V (to read) as separate borrows.
    pub(crate) fn parts(&mut self) -> (&mut [(u64, Sequence)], Option<CrossInputs<'_>>) {
        let packed = self.packed.as_ref().map(|packed| CrossInputs {
            keys: packed.keys.iter().map(|a| a.view()).collect(),
            values: packed.values.iter().map(|a| a.view()).collect(),
            mask: packed.mask.view(),
        });
        (&mut self.members, packed)
    }

    fn pack(&mut self, ids: Vec<u64>) -> PackedCross {
        self.packed = None; // free the old packing before allocating the new one
        let first = &self.members[0].1.cross;
        let (heads, head_dim) = (first.key(0).shape()[0], first.key(0).shape()[2]);
        let batch = self.members.len();
        let len = self
            .members
            .iter()
            .map(|(_, s)| s.cross.len())
            .max()
            .unwrap_or(0);
        let mut mask = Array2::<i64>::zeros((batch, len));
        let mut keys = Vec::with_capacity(first.layers());
        let mut values = Vec::with_capacity(first.layers());
        for layer in 0..first.layers() {
            let mut k = Array4::<f32>::zeros((batch, heads, len, head_dim));
            let mut v = Array4::<f32>::zeros((batch, heads, len, head_dim));
            for (b, (_, sequence)) in self.members.iter().enumerate() {
                let n = sequence.cross.len();
                k.slice_mut(s![b, .., ..n, ..])
                    .assign(&sequence.cross.key(layer));
                v.slice_mut(s![b, .., ..n, ..])
                    .assign(&sequence.cross.value(layer));
            }
            keys.push(k);
            values.push(v);
        }
        for (b, (_, sequence)) in self.members.iter().enumerate() {
            mask.slice_mut(s![b, ..sequence.cross.len()]).fill(1);
        }
        PackedCross {
            ids,
            keys,
            values,
            mask,
        }
    }
}
