//! One request's decoding: its beam search, its self-attention cache, its shared cross K/V.

use std::sync::Arc;

use super::{BeamSearch, CrossKv, DecodeParams, DecoderDims, SelfCache};

#[derive(Debug, Clone)]
pub struct Sequence {
    pub(crate) search: BeamSearch,
    pub(crate) cache: SelfCache,
    pub(crate) cross: Arc<CrossKv>,
}

impl Sequence {
    pub fn new(cross: Arc<CrossKv>, params: DecodeParams, dims: DecoderDims) -> Sequence {
        let search = BeamSearch::new(params);
        let cache = SelfCache::new(dims, search.beam_size(), params.max_length.max(1));
        Sequence {
            search,
            cache,
            cross,
        }
    }

    pub fn search(&self) -> &BeamSearch {
        &self.search
    }

    pub fn cross(&self) -> &Arc<CrossKv> {
        &self.cross
    }

    pub fn is_finished(&self) -> bool {
        self.search.is_finished()
    }

    /// Work one step costs, in attended positions: beams × (memory + past).
    pub fn cost(&self) -> usize {
        self.search.beam_size() * (self.cross.len() + self.search.step() + 1)
    }
}
