//! Decoding: the reference beam search as a step-driven state machine, the per-sequence
//! self-attention cache, cross K/V shared per item, and the continuous batch of sequences.

mod batch;
mod beam_search;
mod candidates;
mod cross_kv;
mod dims;
mod params;
mod self_cache;
mod sequence;
mod step;

pub use batch::DecodeBatch;
pub use beam_search::{Advance, BeamError, BeamSearch};
pub use cross_kv::CrossKv;
pub use dims::DecoderDims;
pub use params::{DecodeLimits, DecodeOption, DecodeOverrides, DecodeParams, OverrideError};
pub use self_cache::SelfCache;
pub use sequence::Sequence;
