"""One graph per module, with the input/output names of docs/model-package.md.

Each graph is a thin nn.Module over the shared PyTorch modules, plus its I/O contract (names, dtypes,
shapes with named dynamic axes) and example inputs for tracing. Example sizes are all different and
larger than 1, so no dynamic axis is confused with another or specialized.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import ModelConfig
from ..nn.model import Mplug2

Dim = int | str


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str  # "float32" | "int64"
    shape: tuple[Dim, ...]

    def to_json(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}


@dataclass
class GraphSpec:
    name: str
    module: nn.Module
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        return {
            t.name: {i: d for i, d in enumerate(t.shape) if isinstance(d, str)}
            for t in self.inputs + self.outputs
        }


# Tracing sizes per named axis (distinct, all > 1).
EXAMPLE_SIZES = {
    "batch": 2,
    "frames": 3,
    "text_len": 5,
    "vision_tokens": 7,
    "memory_len": 11,
    "beams": 3,
    "past_len": 4,
    "prefix_len": 6,
}


def example(spec: TensorSpec, cfg: ModelConfig, gen: torch.Generator) -> torch.Tensor:
    shape = [EXAMPLE_SIZES[d] if isinstance(d, str) else d for d in spec.shape]
    if spec.name == "pixel_values":
        shape = [
            EXAMPLE_SIZES["batch"],
            3,
            EXAMPLE_SIZES["frames"],
            cfg.vision.image_size,
            cfg.vision.image_size,
        ]
    if spec.dtype == "int64":
        if "mask" in spec.name:
            mask = torch.ones(shape, dtype=torch.int64)
            mask[0, -1] = 0  # a padded position, so the masking path is traced
            return mask
        if spec.name == "position_ids":
            return torch.full(shape, EXAMPLE_SIZES["past_len"], dtype=torch.int64)
        return torch.randint(1000, 2000, shape, generator=gen)
    return torch.randn(shape, generator=gen)


class VisionGraph(nn.Module):
    def __init__(self, model: Mplug2):
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model.vision(pixel_values)


class TextGraph(nn.Module):
    def __init__(self, model: Mplug2):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model.text(input_ids, attention_mask)


class FusionGraph(nn.Module):
    def __init__(self, model: Mplug2):
        super().__init__()
        self.model = model

    def forward(self, text_embeds, attention_mask, vision_embeds, vision_mask) -> torch.Tensor:
        return self.model.fuse(text_embeds, attention_mask, vision_embeds, vision_mask)


class CrossKvGraph(nn.Module):
    def __init__(self, model: Mplug2):
        super().__init__()
        self.decoder = model.text_decoder

    def forward(self, memory: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(t for kv in self.decoder.cross_kv(memory) for t in kv)


class StepGraph(nn.Module):
    """Inputs in order: input_ids, position_ids, (past_key_i, past_value_i) per layer, past_mask,
    (cross_key_i, cross_value_i) per layer, memory_mask."""

    def __init__(self, model: Mplug2):
        super().__init__()
        self.decoder = model.text_decoder
        self.layers = len(self.decoder.layers)

    def forward(self, input_ids, position_ids, *rest) -> tuple[torch.Tensor, ...]:
        n = 2 * self.layers
        past_flat, past_mask = rest[:n], rest[n]
        cross_flat, memory_mask = rest[n + 1 : 2 * n + 1], rest[2 * n + 1]
        past = list(zip(past_flat[0::2], past_flat[1::2], strict=True))
        cross = list(zip(cross_flat[0::2], cross_flat[1::2], strict=True))
        logits, presents = self.decoder.step(input_ids, position_ids, past, past_mask, cross, memory_mask)
        return (logits, *(t for kv in presents for t in kv))


class FullDecoderGraph(nn.Module):
    def __init__(self, model: Mplug2):
        super().__init__()
        self.decoder = model.text_decoder

    def forward(self, input_ids, memory, memory_mask) -> torch.Tensor:
        return self.decoder.full(input_ids, memory, memory_mask)


def f32(name: str, *shape: Dim) -> TensorSpec:
    return TensorSpec(name, "float32", shape)


def i64(name: str, *shape: Dim) -> TensorSpec:
    return TensorSpec(name, "int64", shape)


def graph_specs(model: Mplug2) -> list[GraphSpec]:
    cfg = model.cfg
    d, s = cfg.text.hidden_size, cfg.vision.image_size
    heads, hd, layers = cfg.text.num_attention_heads, cfg.text.head_dim, cfg.text.text_decode_layers
    vocab = cfg.text.vocab_size
    kv = lambda prefix, *shape: [  # noqa: E731
        t
        for i in range(layers)
        for t in (f32(f"{prefix}_key_{i}", *shape), f32(f"{prefix}_value_{i}", *shape))
    ]
    specs = [
        GraphSpec(
            "vision",
            VisionGraph(model),
            [f32("pixel_values", "batch", 3, "frames", s, s)],
            [f32("vision_embeds", "batch", "vision_tokens", d)],
        ),
        GraphSpec(
            "text_encoder",
            TextGraph(model),
            [i64("input_ids", "batch", "text_len"), i64("attention_mask", "batch", "text_len")],
            [f32("text_embeds", "batch", "text_len", d)],
        ),
        GraphSpec(
            "fusion",
            FusionGraph(model),
            [
                f32("text_embeds", "batch", "text_len", d),
                i64("attention_mask", "batch", "text_len"),
                f32("vision_embeds", "batch", "vision_tokens", d),
                i64("vision_mask", "batch", "vision_tokens"),
            ],
            [f32("fused_text", "batch", "text_len", d)],
        ),
        GraphSpec(
            "decoder_cross_kv",
            CrossKvGraph(model),
            [f32("memory", "batch", "memory_len", d)],
            kv("cross", "batch", heads, "memory_len", hd),
        ),
        GraphSpec(
            "decoder_step",
            StepGraph(model),
            [
                i64("input_ids", "batch", "beams"),
                i64("position_ids", "batch"),
                *kv("past", "batch", "beams", heads, "past_len", hd),
                i64("past_mask", "batch", "past_len"),
                *kv("cross", "batch", heads, "memory_len", hd),
                i64("memory_mask", "batch", "memory_len"),
            ],
            [f32("logits", "batch", "beams", vocab), *kv("present", "batch", "beams", heads, 1, hd)],
        ),
        GraphSpec(
            "decoder_full",
            FullDecoderGraph(model),
            [
                i64("input_ids", "batch", "prefix_len"),
                f32("memory", "batch", "memory_len", d),
                i64("memory_mask", "batch", "memory_len"),
            ],
            [f32("logits", "batch", vocab)],
        ),
    ]
    if cfg.heads is not None:
        e = cfg.heads.embed_dim
        heads = [  # (graph, module or None, input, output, output width)
            ("heads_vision", model.vision_head(), "vision_cls", "vision_feat", e),
            ("heads_text", model.text_head(), "text_cls", "text_feat", e),
            ("heads_itm", getattr(model, "itm_head", None), "fused_cls", "itm_logits", 2),
        ]
        for name, module, x, y, width in heads:
            if module is not None:
                specs.append(GraphSpec(name, module, [f32(x, "batch", d)], [f32(y, "batch", width)]))
    return specs
