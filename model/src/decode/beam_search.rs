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
//!   first saved among equals), including the leading BOS;
//! - the `num_results` best are the pool sorted by saved score, descending and stable (the
//!   reference's `sorted(..., reverse=True)[:n_best]`), so the first is the result.
//!
//! `beam_size == 1` is the reference's own greedy case: the same code with one beam.
//!
//! The stable prefix (what streaming may send) is the longest common prefix of every hypothesis
//! that can still win: the live beams (every later hypothesis extends one of them) and the best
//! pooled one (a pooled hypothesis below it can never be the pool's maximum). It only grows, is
//! always a prefix of the result, and is the result once finished.

use super::DecodeParams;
use super::candidates::top_candidates;
use super::prefix::common_prefix_len;

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
    /// Once finished: the `num_results` best hypotheses, best first, and their saved scores.
    results: Vec<Vec<i64>>,
    result_scores: Vec<f32>,
}

impl BeamSearch {
    /// `params.num_results` is kept between 1 and the beam size (`with_overrides` rejects more).
    pub fn new(params: DecodeParams) -> BeamSearch {
        let beam_size = params.beam_size.max(1);
        let mut scores = vec![f32::NEG_INFINITY; beam_size];
        scores[0] = 0.0;
        BeamSearch {
            params: DecodeParams {
                beam_size,
                num_results: params.num_results.clamp(1, beam_size),
                ..params
            },
            step: 0,
            beams: vec![vec![params.bos]; beam_size],
            scores,
            pool: Vec::new(),
            results: Vec::new(),
            result_scores: Vec::new(),
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
        !self.results.is_empty()
    }

    /// The best hypothesis (with its leading BOS) once finished.
    pub fn result(&self) -> Option<&[i64]> {
        self.results.first().map(Vec::as_slice)
    }

    /// Its saved normalized score.
    pub fn result_score(&self) -> Option<f32> {
        self.result_scores.first().copied()
    }

    /// The `num_results` best hypotheses once finished, best first; empty before.
    pub fn results(&self) -> &[Vec<i64>] {
        &self.results
    }

    /// Their saved normalized scores (non-increasing).
    pub fn result_scores(&self) -> &[f32] {
        &self.result_scores
    }

    /// The longest common prefix of the live beams and the best pooled hypothesis (see the
    /// module note); the result once finished.
    pub fn stable_prefix(&self) -> &[i64] {
        if let Some(result) = self.result() {
            return result;
        }
        let first = &self.beams[0];
        let pooled = best_of(&self.pool).map(|(_, tokens)| tokens.as_slice());
        let others = self.beams[1..].iter().map(Vec::as_slice).chain(pooled);
        &first[..common_prefix_len(first, others)]
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
            self.finish();
        }
        Ok(Advance {
            parents,
            finished: ended,
        })
    }
}

impl BeamSearch {
    /// Ranks the pool (Python's stable `sorted(..., reverse=True)`) and keeps the best.
    fn finish(&mut self) {
        // −0 ties with 0, as in `best_of`'s `>`; scores are never NaN (candidates drop them).
        let key = |score: f32| if score == 0.0 { 0.0 } else { score };
        let mut ranked: Vec<&(f32, Vec<i64>)> = self.pool.iter().collect();
        ranked.sort_by(|a, b| key(b.0).total_cmp(&key(a.0)));
        ranked.truncate(self.params.num_results);
        self.result_scores = ranked.iter().map(|(score, _)| *score).collect();
        self.results = ranked
            .into_iter()
            .map(|(_, tokens)| tokens.clone())
            .collect();
    }
}

/// The first hypothesis with the highest score (Python's stable `sorted(..., reverse=True)[0]`).
fn best_of(pool: &[(f32, Vec<i64>)]) -> Option<&(f32, Vec<i64>)> {
    let mut best: Option<&(f32, Vec<i64>)> = None;
    for candidate in pool {
        if best.is_none_or(|b| candidate.0 > b.0) {
            best = Some(candidate);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Strategy;
    use crate::decode::test_rng::Lcg;

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
            num_results: 1,
            strategy: Strategy::Beam,
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

    #[test]
    fn a_better_pooled_hypothesis_holds_the_stable_prefix_back() {
        let mut search = BeamSearch::new(params(2, 0, 3));
        assert_eq!(search.stable_prefix(), &[0]);
        search
            .advance(&rows(&[[0.0, 0.6, 0.0, 0.0, 0.0, 0.4], [0.2; V]]), V)
            .unwrap();
        // [0, EOS] is pooled; both live beams will continue [0, 1].
        assert_eq!(search.beams(), &[vec![0, 1], vec![0, EOS]]);
        assert_eq!(search.stable_prefix(), &[0]);
        search
            .advance(&rows(&[[0.0, 0.0, 0.0, 0.5, 0.5, 0.0], [0.2; V]]), V)
            .unwrap();
        assert_eq!(search.beams(), &[vec![0, 1, 3], vec![0, 1, 4]]);
        // The live beams agree on [0, 1], but the pooled [0, EOS] can still win.
        assert_eq!(search.stable_prefix(), &[0]);
        search
            .advance(&rows(&[[1.0 / 6.0; V], [1.0 / 6.0; V]]), V)
            .unwrap();
        assert_eq!(search.result(), Some(&[0, EOS][..]), "and it does");
        assert_eq!(search.stable_prefix(), &[0, EOS]);
    }

    #[test]
    fn agreeing_beams_make_the_prefix_stable() {
        let mut search = BeamSearch::new(params(2, 0, 4));
        search
            .advance(&rows(&[[0.0, 0.6, 0.4, 0.0, 0.0, 0.0], [0.2; V]]), V)
            .unwrap();
        assert_eq!(search.stable_prefix(), &[0]);
        // Both continuations of [0, 1] beat every continuation of [0, 2].
        search
            .advance(
                &rows(&[
                    [0.0, 0.0, 0.0, 0.5, 0.5, 0.0],
                    [0.2, 0.2, 0.2, 0.2, 0.1, 0.1],
                ]),
                V,
            )
            .unwrap();
        assert_eq!(search.beams(), &[vec![0, 1, 3], vec![0, 1, 4]]);
        assert_eq!(search.stable_prefix(), &[0, 1]);
    }

    /// On random logits, with every beam size, length bound and `num_results`: the stable prefix
    /// only grows, is always a prefix of the result, and ends equal to it; the `n` results are
    /// the pool's best, best first.
    #[test]
    fn the_stable_prefix_grows_into_the_result_and_results_are_ranked() {
        let mut rng = Lcg(11);
        for case in 0..400 {
            let beams = 1 + case % 4;
            let (min_length, max_length) = (case % 3, 1 + case % 7);
            let n = 1 + case % beams;
            let mut search = BeamSearch::new(DecodeParams {
                num_results: n,
                ..params(beams, min_length, max_length)
            });
            // Peaked rows make agreement (and EOS) common; flat ones make ties.
            let sharp = [0.5f32, 4.0, 12.0][case % 3];
            let mut prefixes = vec![search.stable_prefix().to_vec()];
            while !search.is_finished() {
                let logits: Vec<f32> = (0..beams * V)
                    .map(|_| (rng.next() * sharp).floor())
                    .collect();
                search.advance(&logits, V).unwrap();
                prefixes.push(search.stable_prefix().to_vec());
            }
            let result = search.result().unwrap().to_vec();
            for pair in prefixes.windows(2) {
                assert!(pair[1].starts_with(&pair[0]), "case {case}: {prefixes:?}");
            }
            for prefix in &prefixes {
                assert!(
                    result.starts_with(prefix),
                    "case {case}: {prefix:?} {result:?}"
                );
            }
            assert_eq!(prefixes.last(), Some(&result), "case {case}");
            assert_eq!(search.results().len(), n, "case {case}");
            assert_eq!(search.results()[0], result);
            assert_eq!(search.result_scores()[0], search.result_score().unwrap());
            assert!(search.result_scores().windows(2).all(|w| w[0] >= w[1]));
            let pool_best = search
                .pool
                .iter()
                .map(|h| h.0)
                .fold(f32::NEG_INFINITY, f32::max);
            assert_eq!(search.result_score(), Some(pool_best), "case {case}");
        }
    }

    #[test]
    fn n_results_are_the_best_pooled_hypotheses() {
        let mut search = BeamSearch::new(DecodeParams {
            num_results: 3,
            ..params(3, 0, 1)
        });
        search
            .advance(
                &rows(&[[0.0, 0.5, 0.2, 0.3, 0.0, 0.0], [0.2; V], [0.2; V]]),
                V,
            )
            .unwrap();
        assert_eq!(search.results(), &[vec![0, 1], vec![0, 3], vec![0, 2]]);
        let expected: Vec<f32> = [0.5f32, 0.3, 0.2].iter().map(|p| p.ln()).collect();
        for (got, want) in search.result_scores().iter().zip(expected) {
            assert!((got - want).abs() < 1e-6);
        }
        // More asked for than beams: clamped to the beam size.
        let search = BeamSearch::new(DecodeParams {
            num_results: 9,
            ..params(2, 0, 1)
        });
        assert_eq!(search.params().num_results, 2);
    }
}
