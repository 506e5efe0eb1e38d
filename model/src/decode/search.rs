//! A sequence's token picker: the beam search or the sampler, chosen by `params.strategy`.
//! The decoder steps see only what both share: rows to feed, their last tokens, the step, and
//! `advance`.

use super::{Advance, BeamError, BeamSearch, DecodeParams, Sampler, Strategy};

#[derive(Debug, Clone)]
pub enum Search {
    Beam(BeamSearch),
    Sample(Sampler),
}

impl Search {
    pub fn new(params: DecodeParams) -> Search {
        match params.strategy {
            Strategy::Beam => Search::Beam(BeamSearch::new(params)),
            Strategy::Sample(sampling) => Search::Sample(Sampler::new(params, sampling)),
        }
    }

    pub fn params(&self) -> &DecodeParams {
        match self {
            Search::Beam(search) => search.params(),
            Search::Sample(sampler) => sampler.params(),
        }
    }

    /// Rows this sequence feeds to each step: the beams, or the samples.
    pub fn beam_size(&self) -> usize {
        match self {
            Search::Beam(search) => search.beam_size(),
            Search::Sample(sampler) => sampler.rows(),
        }
    }

    /// Steps taken so far; also the position of the tokens fed at the next step.
    pub fn step(&self) -> usize {
        match self {
            Search::Beam(search) => search.step(),
            Search::Sample(sampler) => sampler.step(),
        }
    }

    /// Each row's tokens so far (leading BOS included).
    pub fn beams(&self) -> &[Vec<i64>] {
        match self {
            Search::Beam(search) => search.beams(),
            Search::Sample(sampler) => sampler.samples(),
        }
    }

    /// The token each row feeds to the next decoder step.
    pub fn last_tokens(&self) -> impl Iterator<Item = i64> + '_ {
        let bos = self.params().bos;
        self.beams()
            .iter()
            .map(move |row| *row.last().unwrap_or(&bos))
    }

    pub fn is_finished(&self) -> bool {
        match self {
            Search::Beam(search) => search.is_finished(),
            Search::Sample(sampler) => sampler.is_finished(),
        }
    }

    /// Consumes one step of logits, `beam_size() × vocab` row-major.
    pub fn advance(&mut self, logits: &[f32], vocab: usize) -> Result<Advance, BeamError> {
        match self {
            Search::Beam(search) => search.advance(logits, vocab),
            Search::Sample(sampler) => sampler.advance(logits, vocab),
        }
    }

    /// Once finished, the `num_results` results: the best hypotheses best first, or the samples
    /// in row order. Empty before.
    pub fn results(&self) -> &[Vec<i64>] {
        match self {
            Search::Beam(search) => search.results(),
            Search::Sample(sampler) => sampler.results(),
        }
    }

    /// The first result once finished.
    pub fn result(&self) -> Option<&[i64]> {
        self.results().first().map(Vec::as_slice)
    }

    /// The beam search's saved normalized score of its result (`None` for sampling).
    pub fn result_score(&self) -> Option<f32> {
        match self {
            Search::Beam(search) => search.result_score(),
            Search::Sample(_) => None,
        }
    }

    /// Tokens no later step can change (leading BOS included): the longest common prefix of
    /// every hypothesis that can still be a result. It only grows, is a prefix of every result
    /// to come (of the first result for the beam search, of all samples for sampling), and is
    /// the first result once the beam search finishes (the samples' common prefix for sampling).
    pub fn stable_prefix(&self) -> &[i64] {
        match self {
            Search::Beam(search) => search.stable_prefix(),
            Search::Sample(sampler) => sampler.stable_prefix(),
        }
    }
}
