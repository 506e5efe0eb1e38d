//! How close two fp32 results must be to count as equal: every float comparison against the
//! PyTorch goldens, and between batched and single runs, in the tests.
//!
//! One rule: `|actual - expected| <= ATOL + RTOL * scale`, where `scale` is the magnitude of the
//! quantities the value is computed from, not always its own: a tensor element's scale is its
//! tensor's largest magnitude ([`compare`]); a beam score's is the decoder's logits' magnitude
//! ([`beam_scale`]), since each step adds `log_softmax(x) = x - logsumexp(x)`, a difference of two
//! logit-sized numbers. Token ids and strings are compared exactly. `docs/tolerances.md` has the
//! cross-CPU and cross-kernel measurements behind the numbers; the exporter's tests use the same
//! ones (`exporter/src/mplug2_exporter/tolerance.py`).

use std::fmt;

/// Relative part, times the scale: ~4x the worst drift measured across CPUs, kernels and runtimes.
pub const RTOL: f32 = 5e-6;
/// Absolute floor, for values whose scale is about zero: one fp32 ulp at 1.
pub const ATOL: f32 = 1e-7;
/// A beam-search choice is decided when its margin exceeds `TIE_FACTOR` tolerances: the two
/// scores it separates each move by at most one tolerance on another machine, so they cannot swap.
pub const TIE_FACTOR: f32 = 2.0;

/// The largest difference accepted for a value computed from quantities of magnitude `scale`.
pub fn allowed(scale: f32) -> f32 {
    ATOL + RTOL * scale.abs()
}

/// The largest finite magnitude among `values` (0 for none).
pub fn scale_of<'a>(values: impl IntoIterator<Item = &'a f32>) -> f32 {
    values
        .into_iter()
        .map(|v| v.abs())
        .filter(|v| v.is_finite())
        .fold(0.0, f32::max)
}

/// Scale of a beam score (or of a margin between two): the logits' magnitude, or the scores' own
/// when larger. A margin is the smallest gap among the top `beam_size + 1` candidates, so the
/// lower candidate it separates is at most one margin below the kept scores.
pub fn beam_scale(logit_scale: f32, scores_scale: f32, margin: f32) -> f32 {
    logit_scale.max(scores_scale + margin.abs())
}

/// Whether a beam-search margin is beyond numeric noise at `scale`.
pub fn is_decided(margin: f32, scale: f32) -> bool {
    margin > TIE_FACTOR * allowed(scale)
}

/// The largest difference between two float sequences, and the scale it is judged at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    pub max_diff: f32,
    pub scale: f32,
}

impl Comparison {
    pub fn allowed(&self) -> f32 {
        allowed(self.scale)
    }

    pub fn is_close(&self) -> bool {
        self.max_diff <= self.allowed()
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "max |diff| {:.3e}, allowed {:.3e} (ATOL + RTOL * scale {:.3})",
            self.max_diff,
            self.allowed(),
            self.scale
        )
    }
}

/// Compares at the scale of `expected`'s largest magnitude. Panics when the lengths differ.
pub fn compare<'a, 'b>(
    actual: impl IntoIterator<Item = &'a f32>,
    expected: impl IntoIterator<Item = &'b f32>,
) -> Comparison {
    let expected: Vec<f32> = expected.into_iter().copied().collect();
    let scale = scale_of(&expected);
    compare_at(actual, &expected, scale)
}

/// Compares at a given scale. Panics when the lengths differ.
pub fn compare_at<'a, 'b>(
    actual: impl IntoIterator<Item = &'a f32>,
    expected: impl IntoIterator<Item = &'b f32>,
    scale: f32,
) -> Comparison {
    let actual: Vec<f32> = actual.into_iter().copied().collect();
    let expected: Vec<f32> = expected.into_iter().copied().collect();
    assert_eq!(
        actual.len(),
        expected.len(),
        "compared values differ in count"
    );
    // A NaN counts as infinitely far (`f32::max` would skip it).
    let max_diff = actual
        .iter()
        .zip(&expected)
        .map(|(a, e)| (a - e).abs())
        .map(|d| if d.is_nan() { f32::INFINITY } else { d })
        .fold(0.0, f32::max);
    Comparison { max_diff, scale }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_element_near_zero_is_judged_at_its_tensors_scale() {
        let expected = [50.0, 1e-6];
        let within = [50.0, 1e-6 + 0.9 * allowed(50.0)];
        assert!(compare(&within, &expected).is_close());
        let beyond = [50.0, 1e-6 + 1.1 * allowed(50.0)];
        assert!(!compare(&beyond, &expected).is_close());
    }

    #[test]
    fn nan_is_never_close() {
        assert!(!compare(&[f32::NAN], &[1.0]).is_close());
    }

    #[test]
    fn beam_quantities_take_the_logits_scale_unless_the_scores_are_larger() {
        assert_eq!(beam_scale(50.0, 3.0, 0.5), 50.0);
        assert_eq!(beam_scale(10.0, 30.0, 2.0), 32.0);
        assert!(is_decided(3.0 * allowed(50.0), 50.0));
        assert!(!is_decided(allowed(50.0), 50.0));
    }

    #[test]
    #[should_panic(expected = "differ in count")]
    fn different_lengths_panic() {
        compare(&[1.0], &[1.0, 2.0]);
    }
}
