"""How close two fp32 results must be to count as equal: every float comparison in the tests.

One rule: |actual - expected| <= ATOL + RTOL * scale, where `scale` is the magnitude of the
quantities the value is computed from, not always its own:
- a tensor element: its tensor's largest magnitude (elements near zero come out of the same sums);
- a list of scores or probabilities: its largest magnitude;
- a beam score or margin: the decoder's logits' magnitude (`beam_scale`), since each step adds
  log_softmax(x) = x - logsumexp(x), a difference of two logit-sized numbers.
Token ids and strings are compared exactly. docs/tolerances.md has the cross-CPU and cross-kernel
measurements these numbers come from; the Rust tests use the same ones (model/src/tolerance.rs).
"""

from __future__ import annotations

import numpy as np

# Relative part, times the scale: ~4x the worst drift measured across CPUs, kernels and runtimes.
RTOL = 5e-6
# Absolute floor, for values whose scale is about zero: one fp32 ulp at 1.
ATOL = 1e-7
# A beam-search choice is decided when its margin exceeds TIE_FACTOR tolerances: the two scores it
# separates each move by at most one tolerance on another machine, so they cannot swap.
TIE_FACTOR = 2.0


def allowed(scale: float) -> float:
    """The largest difference accepted for a value computed from quantities of magnitude `scale`."""
    return ATOL + RTOL * abs(scale)


def scale_of(values) -> float:
    """The largest finite magnitude in `values` (0 for none)."""
    x = np.abs(np.asarray(values, dtype=np.float64))
    x = x[np.isfinite(x)]
    return float(x.max()) if x.size else 0.0


def beam_scale(logit_scale: float, scores_scale: float, margin: float = 0.0) -> float:
    """Scale of a beam score (or of a margin between two): the logits' magnitude, or the scores' own
    when larger. A margin is the smallest gap among the top beam_size + 1 candidates, so the lower
    candidate it separates is at most one margin below the kept scores."""
    return max(logit_scale, scores_scale + abs(margin))


def max_diff(actual, expected) -> float:
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"shapes differ: {a.shape} vs {e.shape}"
    return float(np.abs(a - e).max()) if a.size else 0.0


def assert_close(actual, expected, what: str = "", scale: float | None = None) -> None:
    """Within tolerance at `scale` (default: the expected values' largest magnitude)."""
    scale = scale_of(expected) if scale is None else scale
    diff, limit = max_diff(actual, expected), allowed(scale)
    assert diff <= limit, f"{what}: max |diff| {diff:.3e} > {limit:.3e} = ATOL + RTOL * scale {scale:.3g}"


def is_decided(margin: float | None, scale: float) -> bool:
    """Whether a beam-search margin (None: nothing to compare against) is beyond numeric noise."""
    return margin is None or margin > TIE_FACTOR * allowed(scale)
