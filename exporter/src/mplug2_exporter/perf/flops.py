"""Analytic FLOPs (2 × multiply-accumulates) of each served module, from the model configuration.

Counted as the official code computes them: linear layers and convolutions, the attention matmuls
(QKᵀ and AV) and the depthwise temporal conv; softmax, LayerNorm and GELU are ignored. For the base
shapes this reproduces `official-timings.md` §5 (40.7 + 4.85 GFLOP per image, 651 + 91.4 per
16-frame video).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dims:
    """The shapes that set the work: from a package manifest's `config`."""

    vision_width: int
    vision_layers: int
    patch_size: int
    image_size: int
    hidden: int
    intermediate: int
    text_layers: int  # text_encoder_layers - num_uni_layer: the layers a text runs through
    uni_layers: int
    fusion_layers: int
    decoder_layers: int
    vocab: int
    latents: int

    @classmethod
    def from_manifest(cls, manifest: dict) -> Dims:
        vision, text = manifest["config"]["vision"], manifest["config"]["text"]
        return cls(
            vision_width=vision["width"],
            vision_layers=vision["layers"],
            patch_size=vision["patch_size"],
            image_size=vision["image_size"],
            hidden=text["hidden_size"],
            intermediate=text["intermediate_size"],
            text_layers=text["text_encoder_layers"] - text["num_uni_layer"],
            uni_layers=text["num_uni_layer"],
            fusion_layers=text["fusion_layers"],
            decoder_layers=text["text_decode_layers"],
            vocab=text["vocab_size"],
            latents=text["num_latents"],
        )

    @property
    def patches(self) -> int:
        return (self.image_size // self.patch_size) ** 2

    def vision_tokens(self, frames: int) -> int:
        return 1 + frames * self.patches


def videoformer_macs(d: Dims, frames: int) -> int:
    """ViT blocks on every frame, each with two LocalTemporal bottlenecks (d → d/2 → d) on the patches."""
    w, hw, n = d.vision_width, d.patches, 1 + d.patches
    patch_embed = hw * 3 * d.patch_size**2 * w
    temporal = 2 * (w * w * hw + 3 * (w // 2) * hw)  # two modules: down + up 1×1 convs, depthwise conv
    attention = 4 * w * w * n + 2 * n * n * w
    mlp = 8 * w * w * n
    projection = 0 if w == d.hidden else (1 + frames * hw) * w * d.hidden  # visn_fc when widths differ
    return frames * (patch_embed + d.vision_layers * (temporal + attention + mlp)) + projection


def universal_macs(d: Dims, frames: int) -> int:
    """The universal layers alternate a latent layer (Q latents attend to N tokens) and a vision layer
    (full self-attention over all N = 1 + T·HW tokens, cross-attention to the latents)."""
    big_d, inter, q, n = d.hidden, d.intermediate, d.latents, d.vision_tokens(frames)
    latent = 4 * big_d**2 * q + 2 * q * q * big_d + 2 * big_d**2 * q + 2 * big_d**2 * n + 2 * q * n * big_d
    latent += 2 * big_d * inter * q
    vision = 4 * big_d**2 * n + 2 * n * n * big_d + 2 * big_d**2 * n + 2 * big_d**2 * q + 2 * n * q * big_d
    vision += 2 * big_d * inter * n
    pairs, odd = divmod(d.uni_layers, 2)
    return pairs * (latent + vision) + odd * latent


def vision_flops(d: Dims, frames: int, batch: int = 1) -> int:
    return 2 * batch * (videoformer_macs(d, frames) + universal_macs(d, frames))


def attention_universal_flops(d: Dims, frames: int) -> int:
    """The N² part of the universal vision layer (QKᵀ and AV), the memory-bound part."""
    n = d.vision_tokens(frames)
    return 2 * (d.uni_layers // 2) * 2 * n * n * d.hidden


def text_flops(d: Dims, tokens: int, batch: int = 1) -> int:
    big_d, t = d.hidden, tokens
    layer = 4 * big_d**2 * t + 2 * t * t * big_d + 2 * big_d * d.intermediate * t
    return 2 * batch * d.text_layers * layer


def fusion_flops(d: Dims, tokens: int, memory: int, batch: int = 1) -> int:
    big_d, t, s = d.hidden, tokens, memory
    layer = 4 * big_d**2 * t + 2 * t * t * big_d  # self-attention
    layer += 2 * big_d**2 * t + 2 * big_d**2 * s + 2 * t * s * big_d  # cross-attention to the vision
    layer += 2 * big_d * d.intermediate * t
    return 2 * batch * d.fusion_layers * layer


def cross_kv_flops(d: Dims, memory: int, batch: int = 1) -> int:
    return 2 * batch * d.decoder_layers * 2 * d.hidden**2 * memory


def decoder_step_flops(d: Dims, rows: int, past: int, memory: int) -> int:
    """One KV-cached step for `rows` beam rows: one new token each, cross K/V precomputed."""
    big_d = d.hidden
    layer = 4 * big_d**2 + 2 * (past + 1) * big_d  # self-attention over the cache
    layer += 2 * big_d**2 + 2 * memory * big_d  # cross-attention (Q and output projections)
    layer += 2 * big_d * d.intermediate
    head = big_d**2 + big_d * d.vocab  # prediction transform + output layer
    return 2 * rows * (d.decoder_layers * layer + head)


def decoder_full_step_flops(d: Dims, rows: int, length: int, memory: int) -> int:
    """One step of the official decoder: the whole prefix of `length` tokens, K/V of the tiled memory
    re-projected in every layer, the output layer on every position (as the official HF head does)."""
    big_d, t = d.hidden, length
    layer = 4 * big_d**2 * t + 2 * t * t * big_d
    layer += 2 * big_d**2 * t + 2 * big_d**2 * memory + 2 * t * memory * big_d
    layer += 2 * big_d * d.intermediate * t
    head = t * (big_d**2 + big_d * d.vocab)
    return 2 * rows * (d.decoder_layers * layer + head)
