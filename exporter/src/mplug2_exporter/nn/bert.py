"""BERT building blocks of mPLUG-2's text encoder, fusion module and decoder.

Attribute names equal the official ones (`attention.self.query`, `output.LayerNorm`, ...), so the
official state dict loads as it is. The arithmetic follows the official order of operations:
scores = q·kᵀ, clamp_inf, / sqrt(head_dim), + additive mask, softmax, · v.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..config import TextConfig
from .numerics import clamp_inf


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """[..., L, D] -> [..., heads, L, D/heads]"""
    *lead, length, width = x.shape
    return x.reshape(*lead, length, heads, width // heads).transpose(-2, -3)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """[..., heads, L, hd] -> [..., L, heads*hd]"""
    x = x.transpose(-2, -3)
    return x.reshape(*x.shape[:-2], x.shape[-2] * x.shape[-1])


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Scaled dot-product attention in the official order; q/k/v are [..., heads, L, hd]."""
    scores = clamp_inf(torch.matmul(q, k.transpose(-1, -2)))
    scores = scores / math.sqrt(q.shape[-1])
    if bias is not None:
        scores = scores + bias
    return torch.matmul(torch.softmax(scores, dim=-1), v)


class BertEmbeddings(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
        """input_ids [..., L]; position_ids broadcastable to it. Token types are all 0, as officially."""
        token_type = self.token_type_embeddings.weight[0]
        x = self.word_embeddings(input_ids) + token_type
        x = x + self.position_embeddings(position_ids)
        return self.LayerNorm(x)


class BertSelfAttention(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.heads = cfg.num_attention_heads
        self.query = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.key = nn.Linear(cfg.encoder_width, cfg.hidden_size)
        self.value = nn.Linear(cfg.encoder_width, cfg.hidden_size)

    def keys_values(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return split_heads(self.key(source), self.heads), split_heads(self.value(source), self.heads)

    def forward(self, hidden: torch.Tensor, source: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        q = split_heads(self.query(hidden), self.heads)
        k, v = self.keys_values(source)
        return merge_heads(attend(q, k, v, bias))


class BertSelfOutput(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, context: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(context) + residual)


class BertAttention(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.self = BertSelfAttention(cfg)
        self.output = BertSelfOutput(cfg)

    def forward(self, hidden: torch.Tensor, source: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        return self.output(self.self(hidden, source, bias), hidden)


class BertIntermediate(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class BertOutput(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.intermediate_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(clamp_inf(self.dense(x)) + residual)


class BertLayer(nn.Module):
    """Self-attention, optional cross-attention, FFN. `latents` only on the first universal layer."""

    def __init__(self, cfg: TextConfig, cross_attention: bool, latents: bool = False):
        super().__init__()
        self.attention = BertAttention(cfg)
        if cross_attention:
            self.crossattention = BertAttention(cfg)
        if latents:
            self.latents = nn.Parameter(torch.zeros(cfg.num_latents, cfg.hidden_size))
        self.intermediate = BertIntermediate(cfg)
        self.output = BertOutput(cfg)

    @property
    def has_latents(self) -> bool:
        return hasattr(self, "latents")

    def feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.intermediate(x), x)

    def forward(
        self,
        hidden: torch.Tensor,
        self_bias: torch.Tensor | None,
        memory: torch.Tensor | None = None,
        memory_bias: torch.Tensor | None = None,
    ) -> torch.Tensor:
        x = self.attention(hidden, hidden, self_bias)
        if memory is not None:
            x = self.crossattention(x, memory, memory_bias)
        return self.feed_forward(x)
