"""`demo`: a tiny random-weight mPLUG-2 in the official checkpoint format, exported and with goldens.

The weights are written as an official-format checkpoint (every official key, momentum copies, the
CLIP text tower, ITC/ITM heads) and go through the same `export` path as a released checkpoint.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import asdict
from pathlib import Path

import torch

from ..checkpoint import load_checkpoint
from ..config import HeadsConfig, VisionConfig, bundled_bert_config_path, read_bert_config
from ..export.package import ExportOptions, export_package
from ..synthetic.official_layout import ClipTextTower, official_layout
from ..synthetic.random_checkpoint import InitScales, random_state_dict
from ..tokenizer import build_tokenizer
from . import goldens

log = logging.getLogger(__name__)

DEMO_SEED = 13
DEMO_VISION = VisionConfig(width=32, layers=2, heads=2, patch_size=16, image_size=64)
DEMO_HEADS = HeadsConfig(embed_dim=256, vision_proj=True, text_proj=True, itm_head=True, temp=0.07)
DEMO_CLIP_TEXT = ClipTextTower(width=16, layers=1, vocab=64, context=8)
# Chosen so that every golden beam-search step is decided beyond numeric noise (its margin over
# TIE_FACTOR tolerances, tolerance.py) with logits of magnitude ~57; EOS ends some beams early.
DEMO_SCALES = InitScales(lm_embedding=2.0, eos_bias=44.0)


def demo_state_dict(seed: int = DEMO_SEED, scales: InitScales = DEMO_SCALES) -> dict[str, torch.Tensor]:
    text = read_bert_config(bundled_bert_config_path("demo"))
    layout = official_layout(DEMO_VISION, text, DEMO_CLIP_TEXT, DEMO_HEADS, momentum=True)
    return random_state_dict(layout, seed, scales)


def write_demo_checkpoint(path: Path, seed: int = DEMO_SEED, scales: InitScales = DEMO_SCALES) -> None:
    torch.save({"model": demo_state_dict(seed, scales), "config": {}, "epoch": 0}, path)


def build_demo(
    out: Path,
    seed: int = DEMO_SEED,
    scales: InitScales = DEMO_SCALES,
    with_goldens: bool = True,
    name: str = "mplug2-demo",
    finetuned_for: str | None = None,
) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / "mplug2_demo.pth"
        write_demo_checkpoint(ckpt, seed, scales)
        bert = bundled_bert_config_path("demo")
        loaded = load_checkpoint(ckpt, bert, DEMO_VISION.heads, hash_file=False)
        options = ExportOptions(
            checkpoint=ckpt,
            out=out,
            bert_config=bert,
            vision_heads=DEMO_VISION.heads,
            name=name,
            source_label=f"demo (random weights, seed {seed})",
            demo={"seed": seed, "scales": asdict(scales)},
            finetuned_for=finetuned_for,
        )
        manifest = export_package(options, loaded)
    if with_goldens:
        index = goldens.generate(loaded.model, build_tokenizer(), out / "goldens")
        log.info("goldens written; smallest beam-search score margin %.4g", index["min_beam_margin"])
    return manifest
