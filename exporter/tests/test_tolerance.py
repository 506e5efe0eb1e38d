"""The fp32 tolerance rule (tolerance.py), and that the Rust tests use the same numbers."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mplug2_exporter import tolerance
from mplug2_exporter.tolerance import allowed, assert_close, beam_scale, is_decided

from .conftest import REPO


def test_the_rust_tests_use_the_same_numbers():
    rust = (REPO / "model" / "src" / "tolerance.rs").read_text()
    for name in ("RTOL", "ATOL", "TIE_FACTOR"):
        found = re.search(rf"pub const {name}: f32 = ([0-9.e+-]+);", rust)
        assert found, f"{name} not in model/src/tolerance.rs"
        assert float(found.group(1)) == getattr(tolerance, name), name


def test_an_element_near_zero_is_judged_at_its_tensors_scale():
    expected = np.array([50.0, 1e-6])
    assert_close(expected + np.array([0, 0.9 * allowed(50.0)]), expected)
    with pytest.raises(AssertionError):
        assert_close(expected + np.array([0, 1.1 * allowed(50.0)]), expected)


def test_nan_is_never_close():
    with pytest.raises(AssertionError):
        assert_close([np.nan], [1.0])


def test_beam_quantities_take_the_logits_scale_unless_the_scores_are_larger():
    assert beam_scale(50.0, 3.0, 0.5) == 50.0
    assert beam_scale(10.0, 30.0, 2.0) == 32.0
    assert is_decided(3 * allowed(50.0), 50.0)
    assert not is_decided(allowed(50.0), 50.0)
    assert is_decided(None, 50.0), "a single candidate cannot be confused with another"
