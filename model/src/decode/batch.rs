//! The sequences decoding together (continuous batching): they join and leave between steps.

use std::sync::Arc;

use ndarray::{Array2, Array4, s};

use super::{CrossKv, Sequence};

/// Active sequences, plus the cross K/V of their steps. The cross K/V are kept while the
/// membership is unchanged, so a step does not re-copy every item's cross K/V.
#[derive(Debug, Default)]
pub struct DecodeBatch {
    pub(crate) members: Vec<(u64, Sequence)>,
    pub(crate) cross: Option<StepCross>,
}

/// The cross K/V a step reads, for the members named by `ids`.
#[derive(Debug)]
pub(crate) struct StepCross {
    ids: Vec<u64>,
    pub(crate) layout: CrossLayout,
}

#[derive(Debug)]
pub(crate) enum CrossLayout {
    /// One member: its own arrays, used as they are (no copy).
    Single(Arc<CrossKv>),
    /// Several members: packed into `[B, heads, S, head_dim]` per layer, padding masked.
    Packed {
        keys: Vec<Array4<f32>>,
        values: Vec<Array4<f32>>,
        mask: Array2<i64>,
    },
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

    /// Removes the finished sequences and returns their `num_results` results each (token ids
    /// with the leading BOS): the best hypotheses best first, or the samples in row order.
    pub fn take_finished(&mut self) -> Vec<(u64, Vec<Vec<i64>>)> {
        let mut finished = Vec::new();
        self.members.retain(|(id, sequence)| {
            let done = sequence.is_finished();
            if done {
                finished.push((*id, sequence.results().to_vec()));
            }
            !done
        });
        if !finished.is_empty() {
            self.release_stale_packing();
        }
        finished
    }

    /// The step's cross K/V no longer match the members: free them now rather than at the next
    /// step, so that an idle decoder holds no copy of its last batch's cross K/V.
    fn release_stale_packing(&mut self) {
        let ids: Vec<u64> = self.ids().collect();
        if self.cross.as_ref().is_some_and(|c| c.ids != ids) {
            self.cross = None;
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

    /// Makes the cross K/V of the next step match the members (rebuilt only if they changed).
    pub(crate) fn prepare_cross(&mut self) {
        let ids: Vec<u64> = self.ids().collect();
        if self.cross.as_ref().is_some_and(|c| c.ids == ids) || self.members.is_empty() {
            return;
        }
        self.cross = None; // free the old packing before allocating the new one
        let layout = match self.members.as_slice() {
            [(_, only)] => CrossLayout::Single(Arc::clone(&only.cross)),
            _ => self.pack(),
        };
        self.cross = Some(StepCross { ids, layout });
    }

    fn pack(&self) -> CrossLayout {
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
        CrossLayout::Packed { keys, values, mask }
    }
}
