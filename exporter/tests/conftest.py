"""Tiny random configs laid out with the official key names, exported once per test session."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from mplug2_exporter.checkpoint import LoadedCheckpoint, load_checkpoint
from mplug2_exporter.config import HeadsConfig, VisionConfig, bundled_bert_config_path, read_bert_config
from mplug2_exporter.digest import sha256_file
from mplug2_exporter.export.package import ExportOptions, export_package
from mplug2_exporter.synthetic.official_layout import ClipTextTower, official_layout
from mplug2_exporter.synthetic.random_checkpoint import InitScales, random_state_dict

torch.set_num_threads(2)

REPO = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO / "models" / "demo"
DATA = Path(__file__).parent / "data"
ALL_TASKS = ["caption", "vqa", "embed_image", "embed_video", "embed_text", "match", "classify"]
SCALES = InitScales(lm_embedding=2.0, eos_bias=44.0)
HEADS = HeadsConfig(embed_dim=24, vision_proj=True, text_proj=True, itm_head=True, temp=0.07)
CLIP_TEXT = ClipTextTower(width=16, layers=1, vocab=64, context=8)


@dataclass(frozen=True)
class TinySpec:
    """A tiny model: vision dims, overrides of the demo BERT config, and whether it has ITC/ITM heads."""

    name: str
    vision: VisionConfig
    bert: dict
    heads: bool
    seed: int


TINY_SPECS = {
    # vision width == hidden: no visn_fc; 2 universal layers; 2 of 4 fusion layers run
    "plain": TinySpec("plain", VisionConfig(32, 2, 2, 16, 32), {}, heads=True, seed=3),
    # vision width 48 != hidden 32: visn_fc + visn_layer_norm; 3 universal layers; 2 of 3 fusion layers
    "visn_fc": TinySpec(
        "visn_fc",
        VisionConfig(48, 1, 3, 8, 32),
        {"text_encoder_layers": 5, "num_uni_layer": 3, "num_hidden_layers": 3, "text_decode_layers": 3},
        heads=False,
        seed=4,
    ),
}


@dataclass
class Tiny:
    spec: TinySpec
    bert_config: Path
    checkpoint: Path
    state: dict[str, torch.Tensor]
    package: Path
    loaded: LoadedCheckpoint

    @property
    def model(self):
        return self.loaded.model


def assert_hashes_match(package: Path, manifest: dict) -> None:
    """Every graph, external data file and listed file has the sha256 the manifest records."""
    for entry in manifest["graphs"].values():
        assert sha256_file(package / entry["file"]) == entry["sha256"], entry["file"]
    for name, digest in manifest["files"].items():
        assert sha256_file(package / name) == digest, name


def write_bert_config(path: Path, overrides: dict) -> Path:
    raw = json.loads(bundled_bert_config_path("demo").read_text())
    path.write_text(json.dumps({**raw, **overrides}))
    return path


def tiny_state(spec: TinySpec, bert_config: Path) -> dict[str, torch.Tensor]:
    text = read_bert_config(bert_config)
    layout = official_layout(spec.vision, text, CLIP_TEXT, HEADS if spec.heads else None, momentum=True)
    return random_state_dict(layout, spec.seed, SCALES)


def make_tiny(root: Path, spec: TinySpec, dtype: str = "fp32") -> Tiny:
    root.mkdir(parents=True, exist_ok=True)
    bert = write_bert_config(root / "bert.json", spec.bert)
    state = tiny_state(spec, bert)
    ckpt = root / "tiny.pth"
    torch.save({"model": state, "config": {}}, ckpt)
    loaded = load_checkpoint(ckpt, bert, spec.vision.heads)
    package = root / f"package-{dtype}"
    export_package(ExportOptions(ckpt, package, bert, spec.vision.heads, dtype=dtype), loaded)
    return Tiny(spec, bert, ckpt, state, package, loaded)


@pytest.fixture(scope="session")
def tiny_factory(tmp_path_factory):
    """Builds each tiny package once per session, on first use."""
    cache: dict[tuple[str, str], Tiny] = {}

    def get(name: str, dtype: str = "fp32") -> Tiny:
        if (name, dtype) not in cache:
            cache[name, dtype] = make_tiny(
                tmp_path_factory.mktemp(f"{name}-{dtype}"), TINY_SPECS[name], dtype
            )
        return cache[name, dtype]

    return get


@pytest.fixture(params=list(TINY_SPECS))
def tiny(request, tiny_factory) -> Tiny:
    return tiny_factory(request.param)


@pytest.fixture
def tiny_plain(tiny_factory) -> Tiny:
    return tiny_factory("plain")
