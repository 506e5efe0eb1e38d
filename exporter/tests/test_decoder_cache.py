"""The KV-cached decoder (cross K/V once, one token per step) against the official full-prefix decoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mplug2_exporter.beam_search import DecodeParams
from mplug2_exporter.onnx_runner import PackageRunner
from mplug2_exporter.pipelines import CAPTION_DECODING, VQA_DECODING, Memory, decode_cached, decode_full
from mplug2_exporter.tolerance import assert_close, beam_scale, is_decided


def memories(tiny) -> list[tuple[str, Memory, DecodeParams]]:
    model, s = tiny.model, tiny.model.cfg.vision.image_size
    gen = torch.Generator().manual_seed(21)
    out = []
    with torch.no_grad():
        for frames in (1, 4):
            vision = model.vision(torch.randn(1, 3, frames, s, s, generator=gen))
            ones = torch.ones(vision.shape[:2], dtype=torch.int64)
            out.append((f"caption T={frames}", Memory(vision, ones), CAPTION_DECODING))
            ids = torch.randint(1000, 9000, (1, 6), generator=gen)
            ids[0, 0] = 101
            mask = torch.ones_like(ids)
            fused = model.fuse(model.text(ids, mask), mask, vision)
            out.append(
                (
                    f"vqa T={frames}",
                    Memory(torch.cat([vision, fused], 1), torch.cat([ones, mask], 1)),
                    VQA_DECODING,
                )
            )
        out.append(("greedy", out[0][1], DecodeParams(1, 2, 12)))
    return out


def test_cached_beam_search_gives_the_full_prefix_tokens(tiny):
    runner = PackageRunner(tiny.package)
    with torch.no_grad():
        for label, memory, params in memories(tiny):
            full = decode_full(tiny.model.text_decoder, memory, params)
            # closer than that, a token comparison would test float noise, not the cache
            scale = beam_scale(full.logit_scale, full.score_scale, full.min_margin)
            assert is_decided(full.min_margin, scale), (
                f"{label}: margin {full.min_margin} too small to compare"
            )
            torch_cached = decode_cached(tiny.model.text_decoder, memory, params)
            onnx_cached = runner.decode_cached(memory.states.numpy(), memory.mask.numpy(), params)
            assert torch_cached.tokens == full.tokens, label
            assert onnx_cached.tokens == full.tokens, label


def test_step_by_step_logits_equal_full_prefix_logits(tiny_plain):
    """Feeding a prefix one token at a time through decoder_step gives decoder_full's logits."""
    runner = PackageRunner(tiny_plain.package)
    model = tiny_plain.model
    gen = torch.Generator().manual_seed(4)
    memory = torch.randn(1, 9, model.cfg.text.hidden_size, generator=gen)
    mask = torch.ones(1, 9, dtype=torch.int64)
    mask[0, -2:] = 0
    prefix = [101, *torch.randint(1000, 9000, (5,), generator=gen).tolist()]
    cross = runner.cross_kv(memory.numpy())
    heads, hd = model.cfg.text.num_attention_heads, model.cfg.text.head_dim
    past = {
        f"past_{k}_{i}": np.zeros((1, 1, heads, 0, hd), np.float32)
        for i in range(model.cfg.text.text_decode_layers)
        for k in ("key", "value")
    }
    for t, token in enumerate(prefix):
        feeds = {
            "input_ids": np.array([[token]]),
            "position_ids": np.array([t]),
            "past_mask": np.ones((1, t), np.int64),
            "memory_mask": mask.numpy(),
            **past,
            **cross,
        }
        logits, *present = runner.run("decoder_step", feeds)
        for i, name in enumerate(past):
            past[name] = np.concatenate([past[name], present[i]], axis=3)
        full = runner.run(
            "decoder_full",
            {"input_ids": np.array([prefix[: t + 1]]), "memory": memory.numpy(), "memory_mask": mask.numpy()},
        )[0]
        assert_close(logits[0, 0], full[0], f"position {t}")


@pytest.mark.parametrize("beams", [1, 5])
def test_step_batch_with_right_padded_past_equals_single_items(tiny_plain, beams):
    """Items with different past lengths share a step: padded past positions are masked by past_mask."""
    runner = PackageRunner(tiny_plain.package)
    cfg = tiny_plain.model.cfg.text
    heads, hd, layers = cfg.num_attention_heads, cfg.head_dim, cfg.text_decode_layers
    gen = torch.Generator().manual_seed(8)
    lengths, mem_lengths, width, mem_width = [2, 5], [7, 4], 5, 7

    def rand(*shape):
        return torch.randn(*shape, generator=gen).numpy()

    past = [
        {f"past_{k}_{i}": rand(1, beams, heads, n, hd) for i in range(layers) for k in ("key", "value")}
        for n in lengths
    ]
    memory = [rand(1, n, cfg.hidden_size) for n in mem_lengths]
    cross = [runner.cross_kv(m) for m in memory]
    ids = torch.randint(1000, 9000, (2, beams), generator=gen).numpy()
    singles = []
    for i in range(2):
        feeds = {
            "input_ids": ids[i : i + 1],
            "position_ids": np.array([lengths[i]]),
            "past_mask": np.ones((1, lengths[i]), np.int64),
            "memory_mask": np.ones((1, mem_lengths[i]), np.int64),
            **past[i],
            **cross[i],
        }
        singles.append(runner.run("decoder_step", feeds))

    def pad(x, n, axis):
        widths = [(0, 0)] * x.ndim
        widths[axis] = (0, n - x.shape[axis])
        return np.pad(x, widths)

    feeds = {
        "input_ids": ids,
        "position_ids": np.array(lengths),
        "past_mask": np.stack([pad(np.ones(n, np.int64), width, 0) for n in lengths]),
        "memory_mask": np.stack([pad(np.ones(n, np.int64), mem_width, 0) for n in mem_lengths]),
    }
    for name in past[0]:
        feeds[name] = np.concatenate([pad(p[name], width, 3) for p in past])
    for name in cross[0]:
        feeds[name] = np.concatenate([pad(c[name], mem_width, 2) for c in cross])
    batch = runner.run("decoder_step", feeds)
    for i in range(2):
        for got, want in zip(batch, singles[i], strict=True):
            assert_close(got[i : i + 1], want, f"item {i} in the batch")
