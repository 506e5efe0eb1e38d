//! The reference beam search (`TextGenerator._fast_translate_batch`, architecture note §4) as a
//! pure state machine: the caller runs the decoder for the current beams, hands the logits in,
//! and reads back which beams were kept. No ONNX Runtime in here.
//!
//! Semantics copied from the reference:
//! - beams start as `[bos]` with scores `[0, -inf, …]`, so the first step expands beam 0 only;
//! - log-probs are `log(softmax(logits))`; while `step < min_length` EOS gets −1e20;
//! - the running score is added, the sum divided by `((5 + step + 1) / 6)^α`, the top `beam_size`
//!   of `beam × vocab` kept (descending; equal scores: lower flat index first), and the running
//!   score becomes `normalized × penalty`;
//! - a beam that emits EOS is saved to the pool with its normalized score and stays alive;
//! - the item ends when beam 0 emits EOS, or after `max_length` steps; then every current beam
//!   joins the pool, and the result is the pooled hypothesis with the highest saved score (the
//!   first saved among equals), including the leading BOS.
//!
//! `beam_size == 1` is the reference's own greedy case: the same code with one beam.

use super::DecodeParams;
use super::candidates::top_candidates;

/// Logits that do not fit the search.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BeamError {
    #[error("expected {expected} logits ({beams} beams × vocab {vocab}), got {got}")]
    Shape {
        expected: usize,
        beams: usize,
        vocab: usize,
        got: usize,
    },
    #[error("fewer than {beams} finite candidate scores (NaN logits?)")]
    NotEnoughCandidates { beams: usize },
    #[error("the search has already finished")]
    Finished,
}

/// What one step did to the beams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advance {
    /// New beam `j` continues old beam `parents[j]`: reorder any per-beam state the same way.
    pub parents: Vec<usize>,
    pub finished: bool,
}

#[derive(Debug, Clone)]
pub struct BeamSearch {
    params: DecodeParams,
    step: usize,
    beams: Vec<Vec<i64>>,
    scores: Vec<f32>,
    pool: Vec<(f32, Vec<i64>)>,
    result: Option<(f32, Vec<i64>)>,
}

impl BeamSearch {
    pub fn new(params: DecodeParams) -> BeamSearch {
        let beam_size = params.beam_size.max(1);
        let mut scores = vec![f32::NEG_INFINITY; beam_size];
        scores[0] = 0.0;
        BeamSearch {
            params: DecodeParams {
                beam_size,
                ..params
            },
            step: 0,
            beams: vec![vec![params.bos]; beam_size],
            scores,
            pool: Vec::new(),
            result: None,
        }
    }

    pub fn params(&self) -> &DecodeParams {
        &self.params
    }

    pub fn beam_size(&self) -> usize {
        self.params.beam_size
    }

    /// Steps taken so far; also the position of the tokens fed at the next step.
    pub fn step(&self) -> usize {
        self.step
    }

    /// The token each beam feeds to the next decoder step.
    pub fn last_tokens(&self) -> impl Iterator<Item = i64> + '_ {
        self.beams
            .iter()
            .map(|beam| *beam.last().unwrap_or(&self.params.bos))
    }

    pub fn beams(&self) -> &[Vec<i64>] {
        &self.beams
    }

    pub fn is_finished(&self) -> bool {
        self.result.is_some()
    }

    /// The best hypothesis (with its leading BOS) once finished.
    pub fn result(&self) -> Option<&[i64]> {
        self.result.as_ref().map(|(_, tokens)| tokens.as_slice())
    }

    /// Its saved normalized score.
    pub fn result_score(&self) -> Option<f32> {
        self.result.as_ref().map(|(score, _)| *score)
    }

    /// Consumes one step of logits, `beam_size × vocab` row-major.
    pub fn advance(&mut self, logits: &[f32], vocab: usize) -> Result<Advance, BeamError> {
        if self.is_finished() {
            return Err(BeamError::Finished);
        }
        let beams = self.params.beam_size;
        if logits.len() != beams * vocab || vocab == 0 {
            return Err(BeamError::Shape {
                expected: beams * vocab,
                beams,
                vocab,
                got: logits.len(),
            });
        }
        let penalty = self.params.penalty(self.step);
        let mask_eos = self.step < self.params.min_length;
        let eos = usize::try_from(self.params.eos).ok().filter(|&e| e < vocab);
        let top = top_candidates(logits, vocab, &self.scores, penalty, eos, mask_eos, beams);
        if top.len() < beams {
            return Err(BeamError::NotEnoughCandidates { beams });
        }
        let parents: Vec<usize> = top.iter().map(|(_, flat)| flat / vocab).collect();
        let tokens: Vec<i64> = top.iter().map(|(_, flat)| (flat % vocab) as i64).collect();
        self.beams = parents
            .iter()
            .zip(&tokens)
            .map(|(&parent, &token)| {
                let mut beam = self.beams[parent].clone();
                beam.push(token);
                beam
            })
            .collect();
        self.scores = top.iter().map(|(score, _)| score * penalty).collect();
        self.step += 1;

        let last_step = self.step == self.params.max_length;
        let ended = last_step || tokens[0] == self.params.eos;
        for (j, token) in tokens.iter().enumerate() {
            if ended || *token == self.params.eos {
                self.pool.push((top[j].0, self.beams[j].clone()));
            }
        }
        if ended {
            self.result = best_of(&self.pool);
        }
        Ok(Advance {
            parents,
            finished: ended,
        })
    }
}

/// The first hypothesis with the highest score (Python's stable `sorted(..., reverse=True)[0]`).
fn best_of(pool: &[(f32, Vec<i64>)]) -> Option<(f32, Vec<i64>)> {
    let mut best: Option<&(f32, Vec<i64>)> = None;
    for candidate in pool {
        if best.is_none_or(|b| candidate.0 > b.0) {
            best = Some(candidate);
        }
    }
    best.cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: usize = 6;
    const EOS: i64 = 5;

    fn params(beam_size: usize, min_length: usize, max_length: usize) -> DecodeParams {
        DecodeParams {
            beam_size,
            min_length,
            max_length,
            length_penalty: 0.6,
            bos: 0,
            eos: EOS,
        }
    }

    /// Logits whose softmax is exactly the given probabilities (up to float rounding).
    fn row(probs: [f32; V]) -> Vec<f32> {
        probs.iter().map(|p| p.ln()).collect()
    }

    fn rows(rows: &[[f32; V]]) -> Vec<f32> {
        rows.iter().flat_map(|r| row(*r)).collect()
    }

    #[test]
    fn first_step_expands_only_beam_zero() {
        let mut search = BeamSearch::new(params(3, 0, 5));
        // Beams 1 and 2 would win if their -inf start did not exclude them.
        let logits = rows(&[
            [0.1, 0.5, 0.2, 0.1, 0.05, 0.05],
            [0.0001, 0.0001, 0.0001, 0.0001, 0.0001, 0.9995],
            [0.9995, 0.0001, 0.0001, 0.0001, 0.0001, 0.0001],
        ]);
        let advance = search.advance(&logits, V).unwrap();
        assert_eq!(advance.parents, vec![0, 0, 0]);
        assert_eq!(search.beams(), &[vec![0, 1], vec![0, 2], vec![0, 0]]);
        assert!(!advance.finished);
    }

    #[test]
    fn eos_is_masked_before_min_length() {
        let mut search = BeamSearch::new(params(1, 1, 5));
        search
            .advance(&row([0.1, 0.1, 0.1, 0.1, 0.1, 0.5]), V)
            .unwrap();
        assert_eq!(
            search.beams()[0],
            vec![0, 0],
            "EOS masked: the first of the equal 0.1s wins"
        );
        let advance = search
            .advance(&row([0.1, 0.1, 0.1, 0.1, 0.1, 0.5]), V)
            .unwrap();
        assert!(
            advance.finished,
            "beam 0 emitted EOS at step 1 >= min_length"
        );
        assert_eq!(search.result(), Some(&[0, 0, EOS][..]));
    }

    #[test]
    fn greedy_takes_the_argmax_and_stops_at_max_length() {
        let mut search = BeamSearch::new(params(1, 0, 3));
        for token in [3usize, 1, 4] {
            let mut probs = [0.05f32; V];
            probs[token] = 0.75;
            search.advance(&row(probs), V).unwrap();
        }
        assert!(search.is_finished());
        assert_eq!(
            search.result(),
            Some(&[0, 3, 1, 4][..]),
            "no EOS appended at max_length"
        );
        assert!(search.advance(&row([0.2; V]), V).is_err());
    }

    #[test]
    fn a_finished_beam_stays_alive_and_its_saved_score_can_win() {
        // Step 0: beam 0 -> token 1 (0.6), beam 1 -> token 2 (0.4).
        // Step 1: beam 1's EOS (0.4 × 0.99) beats beam 0's continuations (0.6 × 0.5), so it
        // becomes the new beam 0 and the item ends; the pool holds both current beams.
        let mut search = BeamSearch::new(params(2, 0, 3));
        search
            .advance(&rows(&[[0.0, 0.6, 0.4, 0.0, 0.0, 0.0], [0.2; V]]), V)
            .unwrap();
        assert_eq!(search.beams(), &[vec![0, 1], vec![0, 2]]);
        let step1 = rows(&[
            [0.0, 0.0, 0.0, 0.5, 0.5, 0.0],
            [0.0, 0.0, 0.0, 0.0, 0.01, 0.99],
        ]);
        let advance = search.advance(&step1, V).unwrap();
        // Candidates: 0.6*0.5=0.3 (beam0 tok3), 0.3 (beam0 tok4), 0.396 (beam1 EOS).
        assert_eq!(search.beams()[0], vec![0, 2, EOS]);
        assert!(advance.finished, "beam 0 is now the EOS hypothesis");
        assert_eq!(search.result(), Some(&[0, 2, EOS][..]));
    }

    #[test]
    fn non_top_eos_is_pooled_and_the_search_continues() {
        let mut search = BeamSearch::new(params(2, 0, 2));
        search
            .advance(&rows(&[[0.0, 0.7, 0.0, 0.0, 0.0, 0.3], [0.2; V]]), V)
            .unwrap();
        // Beam 1 ended with EOS (0.3) and was saved; beam 0 did not, so the item goes on.
        assert_eq!(search.beams(), &[vec![0, 1], vec![0, EOS]]);
        assert!(!search.is_finished());
        // Last step: everything joins the pool; a weak continuation loses to the saved EOS.
        let advance = search
            .advance(&rows(&[[0.0, 0.0, 0.1, 0.1, 0.1, 0.7], [0.2; V]]), V)
            .unwrap();
        assert!(advance.finished);
        let saved = 0.3f32.ln() / 1.0;
        let winner = search.result_score().unwrap();
        assert!(winner >= saved);
        // 0.7 * 0.7 = 0.49 > 0.3: beam 0 emits EOS, normalized by the step-1 penalty.
        let expected = (0.7f32.ln() + 0.7f32.ln()) / params(2, 0, 2).penalty(1);
        assert!((winner - expected).abs() < 1e-5, "{winner} vs {expected}");
        assert_eq!(search.result(), Some(&[0, 1, EOS][..]));
    }

    #[test]
    fn wrong_logit_count_is_an_error() {
        let mut search = BeamSearch::new(params(2, 0, 2));
        assert!(matches!(
            search.advance(&[0.0; 7], V),
            Err(BeamError::Shape { .. })
        ));
    }
}
