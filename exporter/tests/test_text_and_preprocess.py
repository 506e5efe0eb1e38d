"""Text rules, tokenizer.json and media preprocessing against the official code's stored outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mplug2_exporter.preprocess import (
    CLIP_MEAN,
    CLIP_STD,
    frame_indices,
    nearest_indices,
    normalize,
    resize_nearest,
)
from mplug2_exporter.text import decode_official, pre_caption, pre_question
from mplug2_exporter.tokenizer import build_tokenizer

from .conftest import DATA


@pytest.fixture(scope="module")
def official():
    return json.loads((DATA / "official_reference.json").read_text())


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer()


def test_normalization_matches_official(official):
    for entry in official["texts"]:
        assert pre_question(entry["text"]) == entry["pre_question"], entry["text"]
        assert pre_caption(entry["text"]) == entry["pre_caption"], entry["text"]


def test_token_ids_match_the_official_tokenizer(official, tok):
    for entry in official["texts"]:
        assert tok.encode(entry["pre_question"]).ids == entry["input_ids"], entry["text"]
        assert tok.encode(entry["text"]).ids == entry["raw_input_ids"], entry["text"]


def test_single_sequences_have_cls_and_no_sep_and_no_fixed_padding(tok):
    encoded = tok.encode("Café IS open")
    assert encoded.tokens == ["[CLS]", "cafe", "is", "open"]
    long = tok.encode(" ".join(["word"] * 300))
    assert len(long.ids) == 301  # no truncation baked in
    assert tok.padding is None and tok.truncation is None


def test_question_word_limit():
    assert pre_question(" ".join(str(i) for i in range(60))).split() == [str(i) for i in range(50)]


def test_decode_matches_official(official, tok):
    for entry in official["decode"]:
        assert decode_official(tok, entry["ids"]) == entry["decoded"], entry["ids"]


def test_frame_sampling_matches_official(official):
    for entry in official["frame_indices"]:
        assert frame_indices(entry["num_frames"], entry["vlen"]) == entry["indices"], entry


def test_nearest_uses_a_float32_scale():
    """floor(dst * float32(in/out)), clamped: differs from the exact rational rule for 480 -> 224."""
    for size_in, size_out in [(480, 224), (62, 224), (76, 224), (124, 224), (97, 64)]:
        scale = np.float32(size_in) / np.float32(size_out)
        expected = [min(int(np.floor(np.float32(d) * scale)), size_in - 1) for d in range(size_out)]
        assert nearest_indices(size_in, size_out) == expected
    exact = [d * 480 // 224 for d in range(224)]
    assert nearest_indices(480, 224) != exact


def test_resize_picks_nearest_source_pixels_ignoring_aspect():
    frames = np.random.default_rng(0).integers(0, 256, (2, 131, 97, 3), dtype=np.uint8)
    rows, cols = nearest_indices(131, 64), nearest_indices(97, 64)
    np.testing.assert_array_equal(resize_nearest(frames, 64), frames[:, rows][:, :, cols])


def test_normalize_is_float32_clip_normalization():
    frames = np.random.default_rng(1).integers(0, 256, (3, 4, 4, 3), dtype=np.uint8)
    x = normalize(frames)
    assert x.dtype == torch.float32 and tuple(x.shape) == (3, 3, 4, 4)
    expected = (frames.astype(np.float32) / np.float32(255) - np.array(CLIP_MEAN, np.float32)) / np.array(
        CLIP_STD, np.float32
    )
    np.testing.assert_allclose(x.numpy(), expected.transpose(3, 0, 1, 2), rtol=0, atol=1e-6)
