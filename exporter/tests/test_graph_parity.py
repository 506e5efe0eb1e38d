"""Every exported graph matches the PyTorch modules within tolerance (fp32), batch 1 and 3, 1/4/16 frames."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mplug2_exporter.onnx_runner import PackageRunner
from mplug2_exporter.tolerance import assert_close
from mplug2_exporter.verify import graph_cases, padded_mask

FRAMES = [1, 4, 16]


@pytest.mark.parametrize("batch", [1, 3])
def test_every_graph_matches_pytorch(tiny, batch):
    runner = PackageRunner(tiny.package)
    expected = {"vision", "text_encoder", "fusion", "decoder_cross_kv", "decoder_step", "decoder_full"}
    if tiny.spec.heads:
        expected |= {"heads_vision", "heads_text", "heads_itm"}
    assert set(runner.graphs) == expected
    with torch.no_grad():
        for graph in runner.graphs:
            for case in graph_cases(tiny.model, graph, FRAMES, batch, torch.Generator().manual_seed(11)):
                outputs = runner.run(graph, case.feeds)
                for i, (got, want) in enumerate(zip(outputs, case.expected, strict=True)):
                    assert_close(got, want.numpy(), f"{graph} {case.label} output {i}")
            runner.release(graph)


def test_padded_text_batch_equals_single_items(tiny):
    """Right padding must not change any real position: batch of 3 vs each item alone."""
    runner = PackageRunner(tiny.package)
    mask = padded_mask(3, 6)
    ids = torch.randint(1000, 9000, (3, 6), generator=torch.Generator().manual_seed(2)) * mask
    batch = runner.run("text_encoder", {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
    for i in range(3):
        n = int(mask[i].sum())
        alone = runner.run(
            "text_encoder",
            {"input_ids": ids[i : i + 1, :n].numpy(), "attention_mask": mask[i : i + 1, :n].numpy()},
        )[0]
        assert_close(batch[i, :n], alone[0], f"item {i} in the batch")


def test_fusion_batch_of_different_vision_lengths_equals_single_items(tiny):
    """vision_mask lets a 1-frame and a 4-frame item share a fusion batch."""
    runner = PackageRunner(tiny.package)
    d, per_frame = tiny.model.cfg.text.hidden_size, tiny.model.cfg.vision.patches_per_frame
    gen = torch.Generator().manual_seed(5)
    lengths = [1 + per_frame, 1 + 4 * per_frame]
    text = torch.randn(2, 5, d, generator=gen)
    text_mask = padded_mask(2, 5)
    vision = torch.randn(2, max(lengths), d, generator=gen)
    vision_mask = (torch.arange(max(lengths))[None] < torch.tensor(lengths)[:, None]).long()
    feeds = {
        "text_embeds": text.numpy(),
        "attention_mask": text_mask.numpy(),
        "vision_embeds": vision.numpy(),
        "vision_mask": vision_mask.numpy(),
    }
    batch = runner.run("fusion", feeds)[0]
    for i, n in enumerate(lengths):
        t = int(text_mask[i].sum())
        alone = runner.run(
            "fusion",
            {
                "text_embeds": text[i : i + 1, :t].numpy(),
                "attention_mask": text_mask[i : i + 1, :t].numpy(),
                "vision_embeds": vision[i : i + 1, :n].numpy(),
                "vision_mask": np.ones((1, n), np.int64),
            },
        )[0]
        assert_close(batch[i, :t], alone[0], f"item {i} in the batch")


def test_vision_graph_runs_one_frame_like_pytorch_with_temporal_modules(tiny):
    """T=1 goes through lmhra1/lmhra2 (no bypass), as the official code does."""
    model = tiny.model
    s = model.cfg.vision.image_size
    x = torch.randn(1, 3, 1, s, s, generator=torch.Generator().manual_seed(9))
    out = PackageRunner(tiny.package).run("vision", {"pixel_values": x.numpy()})[0]
    with torch.no_grad():
        assert_close(out, model.vision(x).numpy(), "vision T=1")
        block = model.visual_encoder.visual.transformer.resblocks[0]
        saved = block.lmhra1.up_proj.weight.clone()
        block.lmhra1.up_proj.weight.zero_()
        bypassed = model.vision(x).numpy()
        block.lmhra1.up_proj.weight.copy_(saved)
    assert np.abs(out - bypassed).max() > 1e-3, "the temporal module must act at T=1"
