"""Released-shape random checkpoints (large: ViT-L/14 + the large BERT config; base: ViT-B/16 + base).

For benchmarking and for proving the exporter on full-size graphs without the official weights.
The scales keep activations and logits at realistic magnitudes (LM logits of a few units), so a
1e-4 fp32 comparison means what it means for a trained model.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch

from ..config import HeadsConfig, VisionConfig, bundled_bert_config_path, read_bert_config
from .official_layout import ClipTextTower, official_layout
from .random_checkpoint import InitScales, random_state_dict

log = logging.getLogger(__name__)

PRESETS = {
    # name: (vision, CLIP text tower, bundled BERT config)
    "large": (
        VisionConfig(1024, 24, 16, 14, 224),
        ClipTextTower(width=768, layers=12, embed_dim=768),
        "large",
    ),
    "base": (VisionConfig(768, 12, 12, 16, 224), ClipTextTower(width=512, layers=12, embed_dim=512), "base"),
    "demo": (VisionConfig(32, 2, 2, 16, 64), ClipTextTower(width=16, layers=1, vocab=64, context=8), "demo"),
}
REALISTIC_SCALES = InitScales(
    embedding=0.05, token_embedding=0.05, lm_embedding=0.05, lm_bias=0.1, latents=0.5
)
HEADS = HeadsConfig(embed_dim=256, vision_proj=True, text_proj=True, itm_head=True, temp=0.07)


def write_random_checkpoint(
    size: str, out: Path, seed: int = 0, momentum: bool = False, heads: bool = False
) -> None:
    vision, clip, bert = PRESETS[size]
    text = read_bert_config(bundled_bert_config_path(bert))
    layout = official_layout(vision, text, clip, HEADS if heads else None, momentum=momentum)
    start = time.perf_counter()
    state = random_state_dict(layout, seed, REALISTIC_SCALES)
    params = sum(t.numel() for k, t in state.items() if layout[k].alias_of is None)
    log.info(
        "%s: %d keys, %.3f B parameters, generated in %.1f s",
        size,
        len(state),
        params / 1e9,
        time.perf_counter() - start,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": state, "config": {"random": size, "seed": seed}}, out)
    log.info("wrote %s (%.2f GB)", out, out.stat().st_size / 1e9)
