"""The committed demo package: deterministic, equal to a fresh `demo` run, reproduced by ONNX Runtime."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from mplug2_exporter.demo.build import build_demo
from mplug2_exporter.demo.drift import golden_pairs, goldens_of
from mplug2_exporter.demo.replay import onnx_pairs
from mplug2_exporter.digest import sha256_file
from mplug2_exporter.preprocess import frame_indices, pixel_values, read_rgb
from mplug2_exporter.tolerance import assert_close, is_decided

from .conftest import ALL_TASKS, DEMO_DIR, assert_hashes_match

# Every kind of float quantity in the goldens, as `golden_pairs` / `onnx_pairs` name them.
FLOAT_KINDS = {
    "vision embeds",
    "text embeds",
    "fused text",
    "logits",
    "ITC embeddings",
    "beam scores",
    "beam margins",
}


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> list[Path]:
    """Two independent `demo` runs."""
    runs = []
    for i in range(2):
        out = tmp_path_factory.mktemp(f"demo{i}") / "demo"
        build_demo(out)
        runs.append(out)
    return runs


def test_demo_is_deterministic(regenerated):
    for pair in golden_pairs(regenerated[1], regenerated[0]):
        np.testing.assert_array_equal(pair.actual, pair.expected, err_msg=pair.where)
    for onnx_file in regenerated[0].glob("*.onnx"):
        assert sha256_file(onnx_file) == sha256_file(regenerated[1] / onnx_file.name), onnx_file.name


def test_committed_demo_is_what_the_command_regenerates(regenerated):
    fresh = regenerated[0]
    # On another CPU the kernels differ: floats within tolerance (docs/tolerances.md), the rest exact.
    kinds = set()
    for pair in golden_pairs(fresh, DEMO_DIR):
        assert_close(pair.actual, pair.expected, pair.where, pair.scale)
        kinds.add(pair.kind)
    assert FLOAT_KINDS | {"match/classify probabilities"} <= kinds
    committed_manifest = json.loads((DEMO_DIR / "manifest.json").read_text())
    fresh_manifest = json.loads((fresh / "manifest.json").read_text())
    for entry in committed_manifest["graphs"].values():  # files may differ bitwise across platforms
        entry.pop("sha256")
    for entry in fresh_manifest["graphs"].values():
        entry.pop("sha256")
    assert committed_manifest == fresh_manifest
    for name in committed_manifest["graphs"]:
        a, b = onnx.load(str(DEMO_DIR / f"{name}.onnx")), onnx.load(str(fresh / f"{name}.onnx"))
        assert [n.op_type for n in a.graph.node] == [n.op_type for n in b.graph.node], name
        weights_b = {t.name: numpy_helper.to_array(t) for t in b.graph.initializer}
        # elementwise transforms of the seeded generator's draws: a few ulps at most (measured: none)
        for t in a.graph.initializer:
            np.testing.assert_allclose(numpy_helper.to_array(t), weights_b[t.name], rtol=0, atol=1e-6)


def test_committed_demo_manifest_hashes_and_size():
    manifest = json.loads((DEMO_DIR / "manifest.json").read_text())
    assert_hashes_match(DEMO_DIR, manifest)
    total = sum(p.stat().st_size for p in DEMO_DIR.rglob("*") if p.is_file())
    assert total <= 20_000_000, f"demo package is {total} bytes"
    assert manifest["tasks"] == ALL_TASKS


def test_goldens_beam_choices_are_decided():
    """Every step of every golden search (and its final pick) wins by more than TIE_FACTOR tolerances
    at its scale: another CPU cannot flip a token, so exact token comparisons are fair tests."""
    margins = [p for p in golden_pairs(DEMO_DIR, DEMO_DIR) if p.kind == "beam margins"]
    assert len(margins) > 100
    for pair in margins:
        assert is_decided(float(pair.expected), pair.scale), (
            f"{pair.where}: {pair.expected} at scale {pair.scale}"
        )
    index, _ = goldens_of(DEMO_DIR)
    lengths = {len(e["tokens"]) for e in index["captions"] + index["vqa"]}
    assert {21, 11} & lengths and min(lengths) < 10, "both early EOS and max-length endings are covered"


def test_goldens_preprocessing_follows_from_the_input_files():
    index, tensors = goldens_of(DEMO_DIR)
    root = DEMO_DIR / "goldens"
    for media in index["media"]:
        decoded = [read_rgb(root / f) for f in media["files"]]
        indices = [0] if media["kind"] == "image" else frame_indices(index["num_frames"], len(decoded))
        assert indices == media["frame_indices"]
        frames, pixels = pixel_values(np.stack([decoded[i] for i in indices]), index["image_size"])
        np.testing.assert_array_equal(frames, tensors[media["frames"]])
        np.testing.assert_array_equal(pixels.numpy(), tensors[media["pixel_values"]])


def test_onnx_runtime_reproduces_the_goldens():
    """Tokens and strings exactly (asserted by `onnx_pairs`), every float within tolerance."""
    kinds = set()
    for pair in onnx_pairs(DEMO_DIR):
        assert_close(pair.actual, pair.expected, pair.where, pair.scale)
        kinds.add(pair.kind)
    assert kinds == FLOAT_KINDS
