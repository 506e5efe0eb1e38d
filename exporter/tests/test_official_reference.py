"""Our PyTorch modules against numbers stored from the official mPLUG-2 classes (same seeded weights).

`data/official_reference.*` holds outputs of the official code (X-PLUG/mPLUG-2 a46aa97, run outside
this repository with transformers 4.30.2) for the demo-sized model with the random weights that
`random_state_dict(layout, seed, scales)` makes, on inputs from numpy's seeded generator.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from mplug2_exporter.beam_search import BeamResult, DecodeParams
from mplug2_exporter.checkpoint import load_state
from mplug2_exporter.config import HeadsConfig, VisionConfig, bundled_bert_config_path, read_bert_config
from mplug2_exporter.pipelines import caption_memory, decode_full, vqa_memory
from mplug2_exporter.synthetic.official_layout import ClipTextTower, official_layout
from mplug2_exporter.synthetic.random_checkpoint import InitScales, random_state_dict
from mplug2_exporter.text import answer_text, caption_text
from mplug2_exporter.tokenizer import build_tokenizer
from mplug2_exporter.tolerance import assert_close, beam_scale, is_decided

from .conftest import DATA


@pytest.fixture(scope="module")
def reference():
    index = json.loads((DATA / "official_reference.json").read_text())
    return index, load_file(str(DATA / "official_reference.safetensors"))


@pytest.fixture(scope="module")
def ours(reference):
    index, _ = reference
    bert = bundled_bert_config_path("demo")
    layout = official_layout(
        VisionConfig(32, 2, 2, 16, 64),
        read_bert_config(bert),
        ClipTextTower(width=16, layers=1, vocab=64, context=8),
        HeadsConfig(256, True, True, True, 0.07),
        momentum=True,
    )
    state = random_state_dict(layout, index["seed"], InitScales(**index["scales"]))
    return load_state({"model": state}, bert, 2).model


def test_modules_and_beam_search_match_the_official_code(reference, ours):
    index, official = reference
    ids = torch.tensor(index["question_input_ids"])
    mask = torch.tensor(index["question_attention_mask"])
    valid = mask.bool().numpy()
    stride = index["logits_stride"]
    tok = build_tokenizer()
    rng = np.random.default_rng(index["input_seed"])
    undecided: list[str] = []
    with torch.no_grad():
        for case in index["cases"]:
            k = f"T{case['frames']}"
            video = torch.from_numpy(rng.standard_normal((2, 3, case["frames"], 64, 64)).astype(np.float32))
            raw = ours.visual_encoder.visual(video)
            vision = ours.vision(video)
            text = ours.text(ids, mask)
            fused = ours.fuse(text, mask, vision)
            assert_close(raw.numpy(), official[f"{k}.videoformer"], f"{k} videoformer")
            assert_close(vision.numpy(), official[f"{k}.vision_embeds"], f"{k} vision_embeds")
            assert_close(text.numpy()[valid], official[f"{k}.text_embeds"][valid], f"{k} text_embeds")
            assert_close(fused.numpy()[valid], official[f"{k}.fused_text"][valid], f"{k} fused_text")
            prefix = torch.tensor(case["decoder_prefix"])
            memory = torch.cat([vision, fused], 1)
            memory_mask = torch.cat([torch.ones(vision.shape[:2], dtype=torch.int64), mask], 1)
            vqa_logits = ours.text_decoder.full(prefix, memory, memory_mask)[:, ::stride]
            cap_logits = ours.text_decoder.full(
                prefix, vision, torch.ones(vision.shape[:2], dtype=torch.int64)
            )[:, ::stride]
            assert_close(vqa_logits.numpy(), official[f"{k}.vqa_logits"], f"{k} vqa_logits")
            assert_close(cap_logits.numpy(), official[f"{k}.caption_logits"], f"{k} caption_logits")
            for b in range(2):  # the official batch decode vs ours item by item, unpadded
                n = int(mask[b].sum())
                m = mask[b : b + 1, :n]
                f = ours.fuse(ours.text(ids[b : b + 1, :n], m), m, vision[b : b + 1])
                vqa = decode_full(
                    ours.text_decoder, vqa_memory(vision[b : b + 1], f, m), DecodeParams(5, 1, 10)
                )
                cap = decode_full(
                    ours.text_decoder, caption_memory(vision[b : b + 1]), DecodeParams(5, 4, 20)
                )
                if decided(vqa, f"{k}[{b}] vqa", undecided):
                    assert vqa.tokens == case["vqa_tokens"][b]
                    assert answer_text(tok, vqa.tokens) == case["vqa_answers"][b]
                if decided(cap, f"{k}[{b}] caption", undecided):
                    assert cap.tokens == case["caption_tokens"][b]
                    assert caption_text(tok, cap.tokens, "a video of") == case["captions"][b]
    # The stored official outputs hold one near tie (margin 4.5e-4, under two tolerances at logit
    # scale 49): another machine may pick either token there, so it is not a test case.
    assert set(undecided) <= {"T3[1] vqa"}, undecided


def decided(result: BeamResult, label: str, undecided: list[str]) -> bool:
    """Whether every choice of a search is beyond numeric noise; notes it in `undecided` if not."""
    scale = beam_scale(result.logit_scale, result.score_scale, result.min_margin)
    if is_decided(result.min_margin, scale):
        return True
    undecided.append(label)
    return False
