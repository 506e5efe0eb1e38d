//! Decoding: the reference beam search and sampling as step-driven state machines, the
//! per-sequence self-attention cache, cross K/V shared per item, and the continuous batch of
//! sequences.

mod batch;
mod beam_search;
mod candidates;
mod cross_kv;
mod dims;
mod draw;
mod params;
mod prefix;
mod sampler;
mod search;
mod self_cache;
mod sequence;
mod step;
mod strategy;
#[cfg(test)]
mod test_rng;

pub use batch::DecodeBatch;
pub use beam_search::{Advance, BeamError, BeamSearch};
pub use cross_kv::CrossKv;
pub use dims::DecoderDims;
pub use params::{DecodeLimits, DecodeOption, DecodeOverrides, DecodeParams, OverrideError};
pub use sampler::Sampler;
pub use search::Search;
pub use self_cache::SelfCache;
pub use sequence::Sequence;
pub use strategy::{Sampling, SamplingError, SamplingOption, Strategy};
