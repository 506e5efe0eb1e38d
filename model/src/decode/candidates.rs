//! One beam-search step's candidate scores and their top `k`, exactly as the reference computes
//! them: `(log(softmax(logits))[EOS masked to −1e20] + running) / penalty`, top `k` over
//! `beams × vocab`, descending, equal scores in ascending flat index.
//!
//! Only the candidates that can reach the top `k` get the full formula: within a row the score
//! is non-decreasing in the logit, so a token whose logit is more than `SLACK` below the row's
//! k-th largest cannot be chosen (its score is then lower by ~`SLACK`, far above rounding). This
//! saves a logarithm per vocabulary entry; the result is identical (tested against the naive form).

/// Logit distance below a row's k-th largest logit beyond which a token cannot be selected.
const SLACK: f32 = 1e-2;

/// `(score, beam * vocab + token)` of the top `k` candidates, best first.
pub(crate) fn top_candidates(
    logits: &[f32],
    vocab: usize,
    running: &[f32],
    penalty: f32,
    eos: Option<usize>,
    mask_eos: bool,
    k: usize,
) -> Vec<(f32, usize)> {
    let masked = eos.filter(|_| mask_eos);
    let mut top = TopK::new(k);
    for (beam, row) in logits.chunks_exact(vocab).enumerate() {
        let (max, sum) = softmax_denominator(row);
        let threshold = kth_largest(row, k, masked) - SLACK;
        for (token, &x) in row.iter().enumerate() {
            if x >= threshold || Some(token) == eos {
                let score =
                    (log_prob(x, max, sum, Some(token) == masked) + running[beam]) / penalty;
                top.offer(score, beam * vocab + token);
            }
        }
    }
    // Fewer than k finite scores (all beams at -inf): the order among -inf entries is the
    // exhaustive one, so take that path for this degenerate case.
    if top.items.len() < k || top.items.iter().any(|item| item.0 == f32::NEG_INFINITY) {
        return exhaustive(logits, vocab, running, penalty, masked, k);
    }
    top.items
}

/// Every entry through the full formula.
fn exhaustive(
    logits: &[f32],
    vocab: usize,
    running: &[f32],
    penalty: f32,
    masked: Option<usize>,
    k: usize,
) -> Vec<(f32, usize)> {
    let mut top = TopK::new(k);
    for (beam, row) in logits.chunks_exact(vocab).enumerate() {
        let (max, sum) = softmax_denominator(row);
        for (token, &x) in row.iter().enumerate() {
            let score = (log_prob(x, max, sum, Some(token) == masked) + running[beam]) / penalty;
            top.offer(score, beam * vocab + token);
        }
    }
    top.items
}

/// `log(softmax(x))` as the reference writes it (not `log_softmax`), or −1e20 for masked EOS.
fn log_prob(x: f32, max: f32, sum: f32, masked: bool) -> f32 {
    if masked {
        -1e20
    } else {
        ((x - max).exp() / sum).ln()
    }
}

/// The row maximum and `sum(exp(x - max))`, the softmax's pieces. Eight running sums, as a
/// vectorized reduction does (the order of a float sum is not the reference's either way).
fn softmax_denominator(row: &[f32]) -> (f32, f32) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut lanes = [0f32; 8];
    let chunks = row.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            *lane += (x - max).exp();
        }
    }
    let tail: f32 = rest.iter().map(|&x| (x - max).exp()).sum();
    (max, lanes.iter().sum::<f32>() + tail)
}

/// The `k`-th largest value of a row, leaving out `skip` (−inf when there are fewer).
fn kth_largest(row: &[f32], k: usize, skip: Option<usize>) -> f32 {
    let mut top = TopK::new(k);
    // Most values are below the current k-th: one comparison and no call for them.
    let mut floor = f32::NEG_INFINITY;
    for (index, &x) in row.iter().enumerate() {
        if (x > floor || top.items.len() < k) && Some(index) != skip {
            top.offer(x, index);
            if top.items.len() == k {
                floor = top.items[k - 1].0;
            }
        }
    }
    if top.items.len() < k {
        return f32::NEG_INFINITY;
    }
    floor
}

/// The `k` largest `(score, index)` pairs, offered in ascending index order.
pub(crate) struct TopK {
    k: usize,
    items: Vec<(f32, usize)>,
}

impl TopK {
    pub(crate) fn new(k: usize) -> TopK {
        TopK {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    pub(crate) fn offer(&mut self, score: f32, index: usize) {
        if score.is_nan() {
            return;
        }
        if self.items.len() == self.k && self.items.last().is_some_and(|worst| score <= worst.0) {
            return;
        }
        // After every item with a score >= this one: equal scores keep the lower index first.
        let at = self.items.partition_point(|item| item.0 >= score);
        self.items.insert(at, (score, index));
        self.items.truncate(self.k);
    }

    #[cfg(test)]
    pub(crate) fn into_sorted(self) -> Vec<(f32, usize)> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_rng::Lcg;

    #[test]
    fn equals_the_naive_formula_on_random_and_tied_logits() {
        let mut rng = Lcg(7);
        for case in 0..300 {
            let vocab = 50 + case % 200;
            let beams = 1 + case % 5;
            let k = beams;
            // Coarse values make exact ties common; some rows are nearly flat.
            let scale = [0.001f32, 0.1, 3.0, 20.0][case % 4];
            let logits: Vec<f32> = (0..beams * vocab)
                .map(|_| (rng.next() * 8.0).floor() * scale)
                .collect();
            let mut running: Vec<f32> = (0..beams).map(|_| -rng.next() * 10.0).collect();
            if case % 7 == 0 {
                running[beams - 1] = f32::NEG_INFINITY;
            }
            let penalty = 1.0 + rng.next();
            let eos = Some(case % vocab);
            let mask = case % 2 == 0;
            assert_eq!(
                top_candidates(&logits, vocab, &running, penalty, eos, mask, k),
                exhaustive(&logits, vocab, &running, penalty, eos.filter(|_| mask), k),
                "case {case}"
            );
        }
    }

    #[test]
    fn top_k_orders_ties_by_index() {
        let mut top = TopK::new(3);
        for (i, s) in [1.0, 3.0, 3.0, 2.0, 3.0].iter().enumerate() {
            top.offer(*s, i);
        }
        assert_eq!(top.into_sorted(), vec![(3.0, 1), (3.0, 2), (3.0, 4)]);
    }
}
