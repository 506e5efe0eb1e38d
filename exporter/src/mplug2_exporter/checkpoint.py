"""Loads an official mPLUG-2 checkpoint into our modules.

Weights under `model` (or `module`); pretrain prefixes remapped; `*_m` and the CLIP text tower
dropped and reported; every key a used module needs must be present, else the list of missing keys
is the error. Vision dims come from tensor shapes, the text dims from the BERT config JSON.
"""

from __future__ import annotations

import logging
import pickle
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .config import HeadsConfig, ModelConfig, TextConfig, VisionConfig, read_bert_config
from .digest import sha256_file
from .errors import CheckpointError, ConfigError
from .nn.model import Mplug2
from .official_keys import TIED_GROUPS, drop_category, layer_counts, remap_pretrain, strip_wrappers

log = logging.getLogger(__name__)

VISUAL = "visual_encoder.visual."


@dataclass
class LoadReport:
    remapped: int = 0
    dropped: Counter = field(default_factory=Counter)
    dropped_examples: dict[str, list[str]] = field(default_factory=dict)
    converted_dtypes: Counter = field(default_factory=Counter)
    tied_mismatch: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"pretrain remap: {self.remapped} keys renamed"]
        for category, n in sorted(self.dropped.items()):
            examples = ", ".join(self.dropped_examples[category][:3])
            out.append(f"dropped {n} keys: {category} (e.g. {examples})")
        for dtype, n in self.converted_dtypes.items():
            out.append(f"converted {n} tensors from {dtype} to float32")
        out.extend(f"tied keys differ, using the official winner for {k}" for k in self.tied_mismatch)
        return out


@dataclass
class LoadedCheckpoint:
    model: Mplug2
    config: ModelConfig
    report: LoadReport
    finetuned_for: str | None
    checkpoint_config: dict
    sha256: str | None


def _load(path: Path, weights_only: bool) -> dict:
    try:
        return torch.load(path, map_location="cpu", mmap=True, weights_only=weights_only)
    except RuntimeError as e:
        if "mmap" not in str(e) and "zip" not in str(e):
            raise
        # legacy (non-zip) serialization cannot be memory-mapped
        return torch.load(path, map_location="cpu", weights_only=weights_only)


def read_checkpoint(path: Path) -> dict:
    if not Path(path).is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        try:
            return _load(path, weights_only=True)
        except pickle.UnpicklingError:
            # Fine-tune checkpoints also pickle optimizer/scheduler state; the file is the user's own.
            log.warning("%s holds non-tensor objects; loading it with full unpickling", path)
            return _load(path, weights_only=False)
    except Exception as e:
        raise CheckpointError(f"cannot read checkpoint {path}: {e}") from e


def state_dict_of(ckpt: dict) -> dict[str, torch.Tensor]:
    for name in ("model", "module"):
        if isinstance(ckpt.get(name), dict):
            return ckpt[name]
    if ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        return ckpt
    raise CheckpointError(
        f"checkpoint has no 'model' or 'module' state dict (top-level keys: {sorted(ckpt)[:8]})"
    )


def normalize_keys(state: dict[str, torch.Tensor], report: LoadReport) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        new = remap_pretrain(strip_wrappers(key))
        if new != key:
            report.remapped += 1
        out[new] = value
    return out


def require(state: dict, key: str) -> torch.Tensor:
    if key not in state:
        raise CheckpointError(f"checkpoint lacks {key}, needed to size the model")
    return state[key]


def vision_config_from(state: dict, vision_heads: int | None) -> VisionConfig:
    conv = require(state, VISUAL + "conv1.weight")  # [width, 3, kt, p, p]
    width, kt, patch = conv.shape[0], conv.shape[2], conv.shape[-1]
    if kt != 1:
        raise ConfigError(f"conv1 has temporal kernel {kt}: temporal downsampling is not supported")
    tokens = require(state, VISUAL + "positional_embedding").shape[0]
    grid = round((tokens - 1) ** 0.5)
    if grid * grid + 1 != tokens:
        raise ConfigError(f"positional_embedding has {tokens} rows, not 1 + a square grid")
    layers = sum(
        1
        for k in state
        if k.startswith(VISUAL + "transformer.resblocks.") and k.endswith(".attn.in_proj_weight")
    )
    heads = vision_heads or width // 64
    if heads < 1 or width % heads:
        raise ConfigError(f"vision width {width} is not divisible by {heads} heads; pass --vision-heads")
    return VisionConfig(width=width, layers=layers, heads=heads, patch_size=patch, image_size=grid * patch)


def heads_config_from(state: dict) -> HeadsConfig | None:
    present = {name: f"{name}.weight" in state for name in ("vision_proj", "text_proj", "itm_head")}
    if not any(present.values()):
        return None
    projections = [state[f"{n}.weight"] for n in ("vision_proj", "text_proj") if present[n]]
    return HeadsConfig(
        embed_dim=projections[0].shape[0] if projections else 0,
        vision_proj=present["vision_proj"],
        text_proj=present["text_proj"],
        itm_head=present["itm_head"],
        temp=float(state["temp"]) if "temp" in state else None,
    )


def check_layer_counts(state: dict, text: TextConfig) -> None:
    expected = {
        "text_encoder.encoder": ("text_encoder_layers", text.text_encoder_layers),
        "fusion_encoder.encoder": ("num_hidden_layers", text.fusion_num_layers),
        "text_decoder.bert.encoder": ("text_decode_layers", text.text_decode_layers),
    }
    for stack, n in layer_counts(list(state)).items():
        field, want = expected[stack]
        if n != want:
            raise ConfigError(
                f"checkpoint has {n} layers in {stack} but the BERT config's {field} is {want}: "
                "pass the matching --bert-config"
            )


def finetuned_for(ckpt_config: dict) -> str | None:
    if "answer_list" in ckpt_config:
        return "vqa"
    if "prompt" in ckpt_config:
        return "caption"
    return None


def model_config_from(state: dict, bert_config: Path | None, vision_heads: int | None) -> ModelConfig:
    vision = vision_config_from(state, vision_heads)
    probe = read_bert_config(bert_config)
    check_layer_counts(state, probe)
    latents_key = f"text_encoder.encoder.layer.{probe.uni_start}.latents"
    num_latents = require(state, latents_key).shape[0]
    text = read_bert_config(bert_config, num_latents=num_latents)
    visn_fc = vision.width != text.hidden_size
    return ModelConfig(vision=vision, text=text, visn_fc=visn_fc, heads=heads_config_from(state))


def assemble(model: Mplug2, state: dict, report: LoadReport) -> dict[str, torch.Tensor]:
    """Picks, for every parameter our model has, the checkpoint tensor the official load would leave."""
    wanted = list(model.state_dict().keys())
    picked, missing = {}, []
    for key in wanted:
        candidates = [k for k in TIED_GROUPS.get(key, [key]) if k in state]
        if not candidates:
            missing.append(key)
            continue
        values = [state[k] for k in candidates]
        if any(v.shape == values[-1].shape and not torch.equal(v, values[-1]) for v in values[:-1]):
            report.tied_mismatch.append(key)
        picked[key] = values[-1]
    if missing:
        raise CheckpointError(
            f"checkpoint lacks {len(missing)} keys that used modules need:\n  " + "\n  ".join(missing)
        )
    used = {k for key in wanted for k in TIED_GROUPS.get(key, [key])}
    for key in state:
        if key not in used:
            category = drop_category(key)
            report.dropped[category] += 1
            report.dropped_examples.setdefault(category, []).append(key)
    for key, value in picked.items():
        if value.dtype != torch.float32:
            report.converted_dtypes[str(value.dtype)] += 1
            picked[key] = value.to(torch.float32)
    return picked


def load_checkpoint(
    path: Path, bert_config: Path | None = None, vision_heads: int | None = None, hash_file: bool = True
) -> LoadedCheckpoint:
    ckpt = read_checkpoint(path)
    return load_state(ckpt, bert_config, vision_heads, sha256_file(path) if hash_file else None)


def load_state(
    ckpt: dict, bert_config: Path | None, vision_heads: int | None, sha256: str | None = None
) -> LoadedCheckpoint:
    report = LoadReport()
    state = normalize_keys(state_dict_of(ckpt), report)
    cfg = model_config_from(state, bert_config, vision_heads)
    model = Mplug2(cfg)
    picked = assemble(model, state, report)
    try:
        model.load_state_dict(picked, strict=True, assign=True)
    except RuntimeError as e:
        raise CheckpointError(f"checkpoint shapes do not match the configuration: {e}") from e
    decoder = model.text_decoder
    decoder.cls.predictions.decoder.weight = decoder.bert.embeddings.word_embeddings.weight  # keep the tie
    model.eval().requires_grad_(False)
    ckpt_config = ckpt.get("config") if isinstance(ckpt.get("config"), dict) else {}
    for line in report.lines():
        log.info(line)
    return LoadedCheckpoint(model, cfg, report, finetuned_for(ckpt_config), ckpt_config, sha256)
