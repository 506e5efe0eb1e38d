"""Model dimensions: the official BERT config JSON for the text side, tensor shapes for the vision side."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import ConfigError

BUNDLED_BERT_CONFIGS = {
    "large": "config_bert_large_text.json",
    "base": "config_bert_base.json",
    "demo": "config_bert_demo.json",
}


@dataclass(frozen=True)
class VisionConfig:
    width: int
    layers: int
    heads: int
    patch_size: int
    image_size: int

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def patches_per_frame(self) -> int:
        return self.grid * self.grid


@dataclass(frozen=True)
class TextConfig:
    """The fields of the official BERT config JSON that change what the model computes."""

    hidden_size: int
    num_attention_heads: int
    intermediate_size: int
    text_encoder_layers: int
    num_uni_layer: int
    fusion_num_layers: int  # `num_hidden_layers`: how many FusionLayers the official class builds
    fusion_layers: int  # how many of them (the last ones) run
    text_decode_layers: int
    vocab_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float
    encoder_width: int
    stride_layer: int
    num_latents: int = 50

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def fusion_start(self) -> int:
        return max(0, self.fusion_num_layers - self.fusion_layers)

    @property
    def uni_start(self) -> int:
        return self.text_encoder_layers - self.num_uni_layer


@dataclass(frozen=True)
class HeadsConfig:
    embed_dim: int
    vision_proj: bool
    text_proj: bool
    itm_head: bool
    temp: float | None


@dataclass(frozen=True)
class ModelConfig:
    vision: VisionConfig
    text: TextConfig
    visn_fc: bool  # vision width != text hidden: the official `visn_fc` + `visn_layer_norm` run
    heads: HeadsConfig | None


def bundled_bert_config_path(name: str) -> Path:
    return Path(str(resources.files("mplug2_exporter") / "data" / BUNDLED_BERT_CONFIGS[name]))


def read_bert_config(path: Path | None, num_latents: int = 50) -> TextConfig:
    """Reads an official-format BERT config JSON (default: the released large one)."""
    path = path or bundled_bert_config_path("large")
    raw = json.loads(Path(path).read_text())
    required = [
        "hidden_size",
        "num_attention_heads",
        "intermediate_size",
        "num_hidden_layers",
        "text_encoder_layers",
        "fusion_layers",
        "text_decode_layers",
        "num_uni_layer",
        "vocab_size",
    ]
    missing = [k for k in required if k not in raw]
    if missing:
        raise ConfigError(f"BERT config {path} lacks {', '.join(missing)}")
    act = raw.get("hidden_act", "gelu")
    if act != "gelu":
        raise ConfigError(f"BERT config {path}: hidden_act {act!r} is not supported (only 'gelu')")
    if raw.get("position_embedding_type", "absolute") != "absolute":
        raise ConfigError(f"BERT config {path}: only absolute position embeddings are supported")
    text = TextConfig(
        hidden_size=raw["hidden_size"],
        num_attention_heads=raw["num_attention_heads"],
        intermediate_size=raw["intermediate_size"],
        text_encoder_layers=raw["text_encoder_layers"],
        num_uni_layer=raw["num_uni_layer"],
        fusion_num_layers=raw["num_hidden_layers"],
        fusion_layers=raw["fusion_layers"],
        text_decode_layers=raw["text_decode_layers"],
        vocab_size=raw["vocab_size"],
        max_position_embeddings=raw.get("max_position_embeddings", 512),
        type_vocab_size=raw.get("type_vocab_size", 2),
        layer_norm_eps=raw.get("layer_norm_eps", 1e-12),
        encoder_width=raw.get("encoder_width", raw["hidden_size"]),
        stride_layer=raw.get("stride_layer", 100),
        num_latents=num_latents,
    )
    validate_text_config(text)
    return text


def validate_text_config(text: TextConfig) -> None:
    if text.hidden_size % text.num_attention_heads:
        raise ConfigError(
            f"hidden_size {text.hidden_size} is not a multiple of "
            f"num_attention_heads {text.num_attention_heads}"
        )
    if text.encoder_width != text.hidden_size:
        raise ConfigError(
            f"encoder_width {text.encoder_width} != hidden_size {text.hidden_size}: the universal layers "
            "cross-attend between vision tokens and queries of the same width, so they must match"
        )
    if not 1 <= text.num_uni_layer <= text.text_encoder_layers:
        raise ConfigError(f"num_uni_layer {text.num_uni_layer} out of 1..{text.text_encoder_layers}")
    for offset in range(1, min(text.fusion_layers, text.fusion_num_layers)):
        # The official FusionLayer switches to a merged vision+text self-attention that rewrites the
        # vision tokens when offset % stride_layer == 0; no released config reaches it.
        if offset % text.stride_layer == 0:
            raise ConfigError(
                f"stride_layer {text.stride_layer} with fusion_layers {text.fusion_layers} triggers the "
                "merged-attention fusion branch, which this exporter does not support"
            )
