//! Sampling as a step-driven state machine, fed like the beam search: `num_results` rows, each
//! one independent sample that never reorders (parents are the identity).
//!
//! - a row's token is drawn from its logits by [`draw`](super::draw) (temperature, top-k, top-p);
//!   EOS is masked while `step < min_length`, as in the beam search;
//! - a row is done when it emits EOS (kept as its last token) or after `max_length` steps; a done
//!   row is still fed (its last token) and its logits are ignored;
//! - the sequence finishes when every row is done; the results are the samples in row order,
//!   leading BOS included.
//!
//! Reproducible: row `j` draws from its own ChaCha8 stream `j` of a generator seeded with the
//! seed, so a seed gives the same samples whatever else shares the batch, and sample `j` does
//! not depend on how many samples were asked for.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use super::draw::draw;
use super::prefix::common_prefix_len;
use super::{Advance, BeamError, DecodeParams, Sampling};

#[derive(Debug, Clone)]
pub struct Sampler {
    params: DecodeParams,
    sampling: Sampling,
    step: usize,
    samples: Vec<Vec<i64>>,
    done: Vec<bool>,
    rngs: Vec<ChaCha8Rng>,
    finished: bool,
}

impl Sampler {
    /// `params.num_results` samples (at least one); `params.beam_size` is not used.
    pub fn new(params: DecodeParams, sampling: Sampling) -> Sampler {
        let rows = params.num_results.max(1);
        let rngs = (0..rows)
            .map(|row| {
                let mut rng = ChaCha8Rng::seed_from_u64(sampling.seed);
                rng.set_stream(row as u64);
                rng
            })
            .collect();
        Sampler {
            params: DecodeParams {
                num_results: rows,
                ..params
            },
            sampling,
            step: 0,
            samples: vec![vec![params.bos]; rows],
            done: vec![false; rows],
            rngs,
            finished: false,
        }
    }

    pub fn params(&self) -> &DecodeParams {
        &self.params
    }

    pub fn sampling(&self) -> &Sampling {
        &self.sampling
    }

    /// Rows fed to each decoder step: one per sample.
    pub fn rows(&self) -> usize {
        self.samples.len()
    }

    /// Steps taken so far; also the position of the tokens fed at the next step.
    pub fn step(&self) -> usize {
        self.step
    }

    /// Every sample so far, in row order (a done one ends with EOS or has `max_length` tokens).
    pub fn samples(&self) -> &[Vec<i64>] {
        &self.samples
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The samples in row order once finished; empty before.
    pub fn results(&self) -> &[Vec<i64>] {
        if self.finished { &self.samples } else { &[] }
    }

    /// The longest common prefix of every sample (done ones included): no sample changes it.
    pub fn stable_prefix(&self) -> &[i64] {
        let first = &self.samples[0];
        let len = common_prefix_len(first, self.samples[1..].iter().map(Vec::as_slice));
        &first[..len]
    }

    /// Consumes one step of logits, `rows × vocab` row-major.
    pub fn advance(&mut self, logits: &[f32], vocab: usize) -> Result<Advance, BeamError> {
        if self.finished {
            return Err(BeamError::Finished);
        }
        let rows = self.rows();
        if logits.len() != rows * vocab || vocab == 0 {
            return Err(BeamError::Shape {
                expected: rows * vocab,
                beams: rows,
                vocab,
                got: logits.len(),
            });
        }
        let eos = usize::try_from(self.params.eos).ok().filter(|&e| e < vocab);
        let masked = eos.filter(|_| self.step < self.params.min_length);
        let mut drawn = Vec::with_capacity(rows);
        for (row, logits) in logits.chunks_exact(vocab).enumerate() {
            if self.done[row] {
                continue;
            }
            let mut rng = self.rngs[row].clone();
            let token = draw(logits, &self.sampling, masked, || unit_interval(&mut rng))
                .ok_or(BeamError::NotEnoughCandidates { beams: 1 })?;
            drawn.push((row, token as i64, rng));
        }
        // Applied once every row has its token, so an error leaves the state untouched.
        for (row, token, rng) in drawn {
            self.samples[row].push(token);
            self.done[row] = token == self.params.eos;
            self.rngs[row] = rng;
        }
        self.step += 1;
        if self.step >= self.params.max_length {
            self.done.fill(true);
        }
        self.finished = self.done.iter().all(|&d| d);
        Ok(Advance {
            parents: (0..rows).collect(),
            finished: self.finished,
        })
    }
}

/// A uniform number in `[0, 1)` from the top 53 bits of one draw.
fn unit_interval(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Strategy;

    const V: usize = 6;
    const EOS: i64 = 5;

    fn params(n: usize, min_length: usize, max_length: usize, sampling: Sampling) -> DecodeParams {
        DecodeParams {
            beam_size: 1,
            min_length,
            max_length,
            length_penalty: 0.6,
            bos: 0,
            eos: EOS,
            num_results: n,
            strategy: Strategy::Sample(sampling),
        }
    }

    fn seeded(seed: u64) -> Sampling {
        Sampling {
            seed,
            ..Sampling::default()
        }
    }

    fn sampler(n: usize, min_length: usize, max_length: usize, sampling: Sampling) -> Sampler {
        Sampler::new(params(n, min_length, max_length, sampling), sampling)
    }

    /// Runs to the end on fixed logits: every row, every step, the same distribution.
    fn run(sampler: &mut Sampler, probs: [f32; V]) -> Vec<Vec<i64>> {
        let row: Vec<f32> = probs.iter().map(|p| p.ln()).collect();
        while !sampler.is_finished() {
            let logits = row.repeat(sampler.rows());
            let advance = sampler.advance(&logits, V).unwrap();
            assert_eq!(advance.parents, (0..sampler.rows()).collect::<Vec<_>>());
        }
        sampler.results().to_vec()
    }

    const SPREAD: [f32; V] = [0.05, 0.2, 0.2, 0.2, 0.2, 0.15];

    #[test]
    fn a_seed_gives_the_same_samples_and_other_seeds_differ() {
        let first = run(&mut sampler(3, 0, 12, seeded(7)), SPREAD);
        assert_eq!(first, run(&mut sampler(3, 0, 12, seeded(7)), SPREAD));
        let others: Vec<_> = (8..12)
            .map(|seed| run(&mut sampler(3, 0, 12, seeded(seed)), SPREAD))
            .collect();
        assert!(others.iter().all(|o| *o != first), "{first:?} {others:?}");
        assert_ne!(first[0], first[1], "rows draw from different streams");
    }

    #[test]
    fn sample_j_does_not_depend_on_how_many_are_asked_for() {
        let three = run(&mut sampler(3, 0, 12, seeded(3)), SPREAD);
        let one = run(&mut sampler(1, 0, 12, seeded(3)), SPREAD);
        assert_eq!(one[0], three[0]);
    }

    #[test]
    fn rows_stop_at_eos_or_max_length_and_eos_waits_for_min_length() {
        for seed in 0..40 {
            let results = run(&mut sampler(4, 2, 6, seeded(seed)), SPREAD);
            assert_eq!(results.len(), 4);
            for sample in &results {
                assert_eq!(sample[0], 0, "leading BOS");
                let eos_at = sample.iter().position(|&t| t == EOS);
                match eos_at {
                    Some(at) => {
                        assert_eq!(at, sample.len() - 1, "EOS ends a sample: {sample:?}");
                        assert!(at >= 3, "EOS masked at steps 0 and 1: {sample:?}");
                    }
                    None => assert_eq!(sample.len(), 7, "max_length tokens: {sample:?}"),
                }
            }
        }
    }

    #[test]
    fn greedy_sampling_is_the_argmax() {
        let greedy = Sampling {
            temperature: 0.0,
            ..seeded(1)
        };
        let results = run(
            &mut sampler(2, 1, 5, greedy),
            [0.1, 0.1, 0.1, 0.1, 0.1, 0.5],
        );
        // EOS is the argmax but masked at step 0: the first of the equal 0.1s, then EOS.
        assert_eq!(results, vec![vec![0, 0, EOS], vec![0, 0, EOS]]);
    }

    #[test]
    fn the_stable_prefix_is_the_common_prefix_of_every_sample() {
        let mut s = sampler(3, 0, 8, seeded(5));
        let row: Vec<f32> = SPREAD.iter().map(|p| p.ln()).collect();
        let mut previous = s.stable_prefix().to_vec();
        assert_eq!(previous, vec![0]);
        while !s.is_finished() {
            s.advance(&row.repeat(3), V).unwrap();
            let prefix = s.stable_prefix().to_vec();
            assert!(prefix.starts_with(&previous));
            for sample in s.samples() {
                assert!(sample.starts_with(&prefix));
            }
            let len = prefix.len();
            let diverged = s
                .samples()
                .iter()
                .any(|x| x.get(len) != s.samples()[0].get(len));
            assert!(diverged || s.samples().iter().any(|x| x.len() == len));
            previous = prefix;
        }
        let all_equal = s.results().iter().all(|x| *x == s.results()[0]);
        assert_eq!(all_equal, previous == s.results()[0]);
    }

    #[test]
    fn errors_leave_the_state_unchanged() {
        let mut s = sampler(2, 0, 4, seeded(1));
        assert!(matches!(
            s.advance(&[0.0; V], V),
            Err(BeamError::Shape { .. })
        ));
        let mut logits = vec![0.0; 2 * V];
        logits[V..].fill(f32::NAN);
        assert!(s.advance(&logits, V).is_err());
        assert_eq!(s.step(), 0);
        assert_eq!(s.samples(), &[vec![0], vec![0]]);
        // The failed step drew nothing: the run goes on as if it had not happened.
        assert_eq!(
            run(&mut s, SPREAD),
            run(&mut sampler(2, 0, 4, seeded(1)), SPREAD)
        );
    }
}
