//! One token drawn from one row of logits, as Hugging Face's sampling warpers do it:
//! logits / temperature, then top-k (ties with the k-th kept), then top-p (the smallest set of
//! most likely tokens whose probability sums to at least `top_p`, at least one), then a draw
//! from the softmax of what is left.
//!
//! The draw inverts the cumulative distribution of the kept tokens with one uniform number:
//! over the tokens in descending probability (equal: lower id first) when a filter is on, in id
//! order otherwise (no sort needed then). A masked token (EOS before `min_length`), NaN and −inf
//! logits have probability 0.

use std::cmp::Ordering;

use super::Sampling;

/// The token drawn from `row`, or `None` when no token has a finite logit. `uniform` is asked
/// for one number in `[0, 1)` unless the draw is greedy.
pub(crate) fn draw(
    row: &[f32],
    sampling: &Sampling,
    masked: Option<usize>,
    uniform: impl FnOnce() -> f64,
) -> Option<usize> {
    if sampling.is_greedy() {
        return argmax(row, masked);
    }
    let mut kept: Vec<(usize, f32)> = row
        .iter()
        .enumerate()
        .filter(|&(token, &x)| Some(token) != masked && x > f32::NEG_INFINITY)
        .map(|(token, &x)| (token, x / sampling.temperature))
        .collect();
    let max = kept.iter().map(|c| c.1).fold(f32::NEG_INFINITY, f32::max);
    if kept.is_empty() || !max.is_finite() {
        return argmax(row, masked);
    }
    let filtered = sampling.top_k > 0 || sampling.nucleus() < 1.0;
    if sampling.top_k > 0 && sampling.top_k < kept.len() {
        keep_top_k(&mut kept, sampling.top_k);
    }
    if filtered {
        kept.sort_unstable_by(by_descending_logit);
    }
    let weights: Vec<f64> = kept.iter().map(|c| f64::from(c.1 - max).exp()).collect();
    let total: f64 = weights.iter().sum();
    let mut count = kept.len();
    if sampling.nucleus() < 1.0 {
        count = nucleus_len(&weights, total, f64::from(sampling.nucleus()));
    }
    let mass: f64 = weights[..count].iter().sum();
    let target = uniform() * mass;
    let mut cumulative = 0.0;
    for (candidate, weight) in kept[..count].iter().zip(&weights) {
        cumulative += weight;
        if target < cumulative {
            return Some(candidate.0);
        }
    }
    // Rounding left `target` at the very top: the last kept token with any weight.
    kept[..count]
        .iter()
        .zip(&weights)
        .rev()
        .find(|(_, w)| **w > 0.0)
        .map(|(candidate, _)| candidate.0)
}

/// The first token with the highest logit (masked, NaN and −inf excluded).
fn argmax(row: &[f32], masked: Option<usize>) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (token, &x) in row.iter().enumerate() {
        if Some(token) != masked && x > f32::NEG_INFINITY && best.is_none_or(|b| x > b.1) {
            best = Some((token, x));
        }
    }
    best.map(|b| b.0)
}

/// Descending logit, equal logits in ascending token id.
fn by_descending_logit(a: &(usize, f32), b: &(usize, f32)) -> Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

/// Keeps the candidates whose logit is at least the `k`-th largest (ties with it included).
fn keep_top_k(kept: &mut Vec<(usize, f32)>, k: usize) {
    let (_, kth, _) = kept.select_nth_unstable_by(k - 1, by_descending_logit);
    let threshold = kth.1;
    kept.retain(|c| c.1 >= threshold);
}

/// How many of the weights (sorted descending) the nucleus keeps: the fewest whose share of
/// `total` reaches `top_p`, at least one.
fn nucleus_len(weights: &[f64], total: f64, top_p: f64) -> usize {
    let mut cumulative = 0.0;
    for (index, weight) in weights.iter().enumerate() {
        cumulative += weight;
        if cumulative / total >= top_p {
            return index + 1;
        }
    }
    weights.len().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampling(temperature: f32, top_k: usize, top_p: f32) -> Sampling {
        Sampling {
            temperature,
            top_k,
            top_p,
            seed: 0,
        }
    }

    /// Logits whose softmax is `probs`.
    fn logits(probs: &[f64]) -> Vec<f32> {
        probs.iter().map(|p| p.ln() as f32).collect()
    }

    /// Which token each of `steps` evenly spread uniform numbers draws.
    fn sweep(row: &[f32], s: &Sampling, masked: Option<usize>, steps: usize) -> Vec<usize> {
        let mut counts = vec![0; row.len()];
        for i in 0..steps {
            let u = (i as f64 + 0.5) / steps as f64;
            counts[draw(row, s, masked, || u).unwrap()] += 1;
        }
        counts
    }

    #[test]
    fn plain_sampling_follows_the_softmax() {
        let row = logits(&[0.1, 0.2, 0.3, 0.4]);
        assert_eq!(
            sweep(&row, &sampling(1.0, 0, 1.0), None, 1000),
            vec![100, 200, 300, 400]
        );
    }

    #[test]
    fn temperature_sharpens_and_zero_is_greedy() {
        let row = logits(&[0.2, 0.8]);
        // T = 0.5 squares the probabilities: 0.04 : 0.64 → 1/17 : 16/17.
        let counts = sweep(&row, &sampling(0.5, 0, 1.0), None, 1700);
        assert_eq!(counts, vec![100, 1600]);
        let greedy = sampling(0.0, 0, 1.0);
        assert_eq!(
            draw(&row, &greedy, None, || panic!("greedy draws no number")),
            Some(1)
        );
        assert_eq!(
            draw(&[1.0, 3.0, 3.0], &greedy, None, || 0.0),
            Some(1),
            "ties: lower id"
        );
    }

    #[test]
    fn top_k_keeps_the_k_most_likely_and_ties_with_the_kth() {
        let row = logits(&[0.1, 0.4, 0.2, 0.3]);
        // Kept {1, 3}: 0.4 : 0.3, walked in descending probability.
        assert_eq!(
            sweep(&row, &sampling(1.0, 2, 1.0), None, 700),
            vec![0, 400, 0, 300]
        );
        let tied = [1.0f32, 2.0, 2.0, 0.0];
        let counts = sweep(&tied, &sampling(1.0, 2, 1.0), None, 100);
        assert_eq!(counts, vec![0, 50, 50, 0]);
        let counts = sweep(&[3.0, 2.0, 2.0, 0.0], &sampling(1.0, 2, 1.0), None, 100);
        assert_eq!(counts[3], 0);
        assert!(
            counts[1] > 0 && counts[2] > 0,
            "both tokens tied with the 2nd kept"
        );
        assert_eq!(
            sweep(&row, &sampling(1.0, 1, 1.0), None, 10),
            vec![0, 10, 0, 0]
        );
    }

    #[test]
    fn top_p_keeps_the_smallest_set_reaching_it() {
        let row = logits(&[0.05, 0.5, 0.3, 0.15]);
        // 0.5 < 0.7 ≤ 0.5 + 0.3: tokens 1 and 2, renormalized 5 : 3.
        assert_eq!(
            sweep(&row, &sampling(1.0, 0, 0.7), None, 800),
            vec![0, 500, 300, 0]
        );
        // Reached by the first token alone.
        assert_eq!(
            sweep(&row, &sampling(1.0, 0, 0.45), None, 10),
            vec![0, 10, 0, 0]
        );
        // A tiny top_p still keeps one token.
        assert_eq!(
            sweep(&row, &sampling(1.0, 0, 1e-9), None, 10),
            vec![0, 10, 0, 0]
        );
    }

    #[test]
    fn top_k_then_top_p_on_the_renormalized_rest() {
        // Top-2 {1: 0.5, 2: 0.3} renormalized to 0.625 : 0.375; top_p 0.6 keeps token 1 alone.
        let row = logits(&[0.05, 0.5, 0.3, 0.15]);
        assert_eq!(
            sweep(&row, &sampling(1.0, 2, 0.6), None, 10),
            vec![0, 10, 0, 0]
        );
    }

    #[test]
    fn masked_nan_and_infinite_logits_are_never_drawn() {
        let row = [0.0f32, f32::NAN, f32::NEG_INFINITY, 0.0];
        let counts = sweep(&row, &sampling(1.0, 0, 1.0), Some(3), 50);
        assert_eq!(counts, vec![50, 0, 0, 0]);
        assert_eq!(draw(&row, &sampling(0.0, 0, 1.0), Some(0), || 0.0), Some(3));
        let none = [f32::NAN, f32::NEG_INFINITY];
        assert_eq!(draw(&none, &sampling(1.0, 0, 1.0), None, || 0.5), None);
        assert_eq!(draw(&none, &sampling(0.0, 0, 1.0), None, || 0.5), None);
    }

    #[test]
    fn a_uniform_number_near_one_still_draws_a_kept_token() {
        let row = logits(&[0.25, 0.25, 0.5]);
        let top = 1.0 - f64::EPSILON;
        assert_eq!(draw(&row, &sampling(1.0, 0, 1.0), None, || top), Some(2));
        // Top-2 keeps the tie {0, 1} too; walked as 2, 0, 1.
        assert_eq!(draw(&row, &sampling(1.0, 2, 1.0), None, || top), Some(1));
    }
}
