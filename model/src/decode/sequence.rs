//! One request's decoding: its search (beam search or sampler), its self-attention cache, its
//! shared cross K/V.

use std::sync::Arc;

use super::{CrossKv, DecodeParams, DecoderDims, Search, SelfCache};

#[derive(Debug, Clone)]
pub struct Sequence {
    pub(crate) search: Search,
    pub(crate) cache: SelfCache,
    pub(crate) cross: Arc<CrossKv>,
}

impl Sequence {
    pub fn new(cross: Arc<CrossKv>, params: DecodeParams, dims: DecoderDims) -> Sequence {
        let search = Search::new(params);
        let cache = SelfCache::new(dims, search.beam_size(), params.max_length.max(1));
        Sequence {
            search,
            cache,
            cross,
        }
    }

    pub fn search(&self) -> &Search {
        &self.search
    }

    pub fn cross(&self) -> &Arc<CrossKv> {
        &self.cross
    }

    pub fn is_finished(&self) -> bool {
        self.search.is_finished()
    }

    /// Rows fed to each step: the beams, or the samples.
    pub fn rows(&self) -> usize {
        self.search.beam_size()
    }

    /// Tokens that no later step can change, leading BOS included (see `Search::stable_prefix`):
    /// it only grows, and for the beam search it ends equal to the result. Borrowed: copy what
    /// you keep before the next step.
    pub fn stable_prefix(&self) -> &[i64] {
        self.search.stable_prefix()
    }

    /// Once finished, the `num_results` results (leading BOS included); empty before.
    pub fn results(&self) -> &[Vec<i64>] {
        self.search.results()
    }

    /// Work one step costs, in attended positions: rows × (memory + past).
    pub fn cost(&self) -> usize {
        self.search.beam_size() * (self.cross.len() + self.search.step() + 1)
    }
}
