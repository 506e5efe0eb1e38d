"""Numeric conventions of the official code that the graphs must reproduce.

fp32 (the default) follows the official fp32 path exactly. While `fp16_graph_semantics()` is active
(only during an fp16 export, which traces in fp32 and converts afterwards) two things change, as the
official code does in fp16: `clamp_inf` becomes an unconditional clamp (identical whenever values are
finite, and it keeps the data-dependent `isinf(x).any()` branch out of the graph), and the
cross-attention mask uses HF's fp16 constant (-1e4) instead of -1e9, which would overflow to -inf.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar

import torch

SELF_ATTENTION_MASK_VALUE = -10000.0  # the official get_extended_attention_mask
CROSS_ATTENTION_MASK_VALUE_FP32 = -1e9  # HF invert_attention_mask (transformers 4.14, pinned officially)
CROSS_ATTENTION_MASK_VALUE_FP16 = -1e4
FP16_CLAMP = 65504.0 - 1000.0  # torch.finfo(float16).max - 1000, as the official clamp_inf

_fp16 = ContextVar("mplug2_fp16_graph", default=False)


@contextlib.contextmanager
def fp16_graph_semantics():
    token = _fp16.set(True)
    try:
        yield
    finally:
        _fp16.reset(token)


def clamp_inf(x: torch.Tensor) -> torch.Tensor:
    """The official clamp_inf: a no-op in fp32."""
    if _fp16.get():
        return x.clamp(-FP16_CLAMP, FP16_CLAMP)
    return x


def self_attention_bias(mask: torch.Tensor) -> torch.Tensor:
    """[B, S] 1/0 mask -> additive [B, 1, 1, S] bias, -10000 where masked."""
    return (1.0 - mask[:, None, None, :].to(torch.float32)) * SELF_ATTENTION_MASK_VALUE


def cross_attention_bias(mask: torch.Tensor) -> torch.Tensor:
    """[B, S] 1/0 mask -> additive [B, 1, 1, S] bias, as HF invert_attention_mask."""
    value = CROSS_ATTENTION_MASK_VALUE_FP16 if _fp16.get() else CROSS_ATTENTION_MASK_VALUE_FP32
    return (1.0 - mask[:, None, None, :].to(torch.float32)) * value
