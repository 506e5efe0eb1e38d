"""The committed demo package: deterministic, equal to a fresh `demo` run, reproduced by ONNX Runtime."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from safetensors.numpy import load_file

from mplug2_exporter.beam_search import DecodeParams
from mplug2_exporter.demo.build import build_demo
from mplug2_exporter.digest import sha256_file
from mplug2_exporter.onnx_runner import PackageRunner
from mplug2_exporter.preprocess import frame_indices, pixel_values, read_rgb
from mplug2_exporter.text import answer_text, caption_text
from mplug2_exporter.tokenizer import build_tokenizer

from .conftest import ALL_TASKS, DEMO_DIR, assert_hashes_match

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> list[Path]:
    """Two independent `demo` runs."""
    runs = []
    for i in range(2):
        out = tmp_path_factory.mktemp(f"demo{i}") / "demo"
        build_demo(out)
        runs.append(out)
    return runs


def goldens_of(package: Path) -> tuple[dict, dict[str, np.ndarray]]:
    root = package / "goldens"
    return json.loads((root / "goldens.json").read_text()), load_file(str(root / "tensors.safetensors"))


def assert_same_goldens(a: Path, b: Path, atol: float) -> None:
    index_a, tensors_a = goldens_of(a)
    index_b, tensors_b = goldens_of(b)
    assert index_a == index_b if atol == 0 else json_close(index_a, index_b, atol)
    assert tensors_a.keys() == tensors_b.keys()
    for name in tensors_a:
        np.testing.assert_allclose(tensors_a[name], tensors_b[name], rtol=atol, atol=atol, err_msg=name)


def json_close(a, b, atol: float) -> bool:
    """Equal structure, ints and strings; floats within atol (scores and margins)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(json_close(a[k], b[k], atol) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(json_close(x, y, atol) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= atol * (1 + abs(b))
    return a == b


def test_demo_is_deterministic(regenerated):
    assert_same_goldens(regenerated[0], regenerated[1], atol=0)
    for onnx_file in regenerated[0].glob("*.onnx"):
        assert sha256_file(onnx_file) == sha256_file(regenerated[1] / onnx_file.name), onnx_file.name


def test_committed_demo_is_what_the_command_regenerates(regenerated):
    fresh = regenerated[0]
    # floats may differ in the last bits on another CPU (BLAS kernels); tokens and strings may not
    assert_same_goldens(DEMO_DIR, fresh, atol=2e-5)
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
        for t in a.graph.initializer:
            np.testing.assert_allclose(numpy_helper.to_array(t), weights_b[t.name], rtol=0, atol=1e-6)


def test_committed_demo_manifest_hashes_and_size():
    manifest = json.loads((DEMO_DIR / "manifest.json").read_text())
    assert_hashes_match(DEMO_DIR, manifest)
    total = sum(p.stat().st_size for p in DEMO_DIR.rglob("*") if p.is_file())
    assert total <= 20_000_000, f"demo package is {total} bytes"
    assert manifest["tasks"] == ALL_TASKS


def test_goldens_beam_margins_are_comfortable():
    index, _ = goldens_of(DEMO_DIR)
    assert index["min_beam_margin"] > 1e-3
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
    index, t = goldens_of(DEMO_DIR)
    runner = PackageRunner(DEMO_DIR)
    tok = build_tokenizer()

    def ones(x):
        return np.ones(x.shape[:2], np.int64)

    vision = {}
    for media in index["media"]:
        out = runner.run("vision", {"pixel_values": t[media["pixel_values"]][None]})[0]
        np.testing.assert_allclose(out[0], t[media["vision_embeds"]], atol=TOLERANCE, err_msg=media["name"])
        vision[media["name"]] = out
    text_embeds = {}
    for i, text in enumerate(index["texts"]):
        ids = np.array([text["question"]["input_ids"]])
        text_embeds[i] = runner.run("text_encoder", {"input_ids": ids, "attention_mask": ones(ids)})[0]
        np.testing.assert_allclose(text_embeds[i][0], t[text["text_embeds"]], atol=TOLERANCE)

    def fuse(media: str, text: int) -> np.ndarray:
        v, te = vision[media], text_embeds[text]
        return runner.run(
            "fusion",
            {"text_embeds": te, "attention_mask": ones(te), "vision_embeds": v, "vision_mask": ones(v)},
        )[0]

    for f in index["fusion"]:
        np.testing.assert_allclose(fuse(f["media"], f["text"])[0], t[f["fused_text"]], atol=TOLERANCE)
    for step in index["decoder_first_step"]:
        v = vision[step["media"]]
        memory = v if step["task"] == "caption" else np.concatenate([v, fuse(step["media"], step["text"])], 1)
        logits = runner.run(
            "decoder_full",
            {
                "input_ids": np.array([step["input_ids"]]),
                "memory": memory,
                "memory_mask": np.array([step["memory_mask"]]),
            },
        )[0]
        np.testing.assert_allclose(logits[0], t[step["logits"]], atol=TOLERANCE)
    for c in index["captions"]:
        result = runner.decode_cached(
            vision[c["media"]], ones(vision[c["media"]]), DecodeParams(**c["params"])
        )
        assert result.tokens == c["tokens"]
        assert caption_text(tok, result.tokens, c["prompt"]) == c["text"]
    for q in index["vqa"]:
        memory = np.concatenate([vision[q["media"]], fuse(q["media"], q["text"])], 1)
        result = runner.decode_cached(memory, ones(memory), DecodeParams(**q["params"]))
        assert result.tokens == q["tokens"]
        assert answer_text(tok, result.tokens) == q["answer"]
    for e in index["embeddings"]["media"]:
        feat = runner.run("heads_vision", {"vision_cls": vision[e["media"]][:, 0]})[0]
        np.testing.assert_allclose(feat[0], t[e["embedding"]], atol=1e-5)
