"""The shared text decoder (official `BertLMHeadModel` / `BertPrefixModel`: `.bert` + `.cls`).

Three ways to run the same weights:
- `full`: the official computation, the whole prefix with a causal mask; logits of the last position.
- `cross_kv` + `step`: the KV-cached decoder (the official cache is broken, so this is written anew).
  Cross-attention K/V are computed once per item; the K beam slots of an item fold into the query
  axis of the cross-attention, which is exact because attention rows are independent. Each step takes
  the past self-attention K/V per beam slot, right-padded and masked by `past_mask`, and returns only
  the new token's K/V.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import TextConfig
from .bert import BertEmbeddings, BertLayer, attend, merge_heads, split_heads
from .numerics import SELF_ATTENTION_MASK_VALUE, cross_attention_bias, self_attention_bias


class PredictionHeadTransform(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(F.gelu(self.dense(x)))


class LMPredictionHead(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.transform = PredictionHeadTransform(cfg)
        self.decoder = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(cfg.vocab_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.transform(x)
        # 2-D so the graph holds a Gemm(transB=1) on the tied [V, D] weight instead of a transposed copy
        flat = F.linear(h.reshape(-1, h.shape[-1]), self.decoder.weight, self.bias)
        return flat.reshape(*h.shape[:-1], flat.shape[-1])


class OnlyMLMHead(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.predictions = LMPredictionHead(cfg)


class DecoderBert(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(
            BertLayer(cfg, cross_attention=True) for _ in range(cfg.text_decode_layers)
        )


class TextDecoder(nn.Module):
    """Official key prefix `text_decoder.`; the LM output weight is tied to the word embeddings."""

    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.cfg = cfg
        self.bert = DecoderBert(cfg)
        self.cls = OnlyMLMHead(cfg)
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    @property
    def layers(self) -> nn.ModuleList:
        return self.bert.encoder.layer

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.cls.predictions(hidden)

    def full(self, input_ids: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor) -> torch.Tensor:
        """input_ids [B, t], memory [B, S, D], memory_mask [B, S] -> logits of the last position [B, V]."""
        t = input_ids.shape[1]
        positions = torch.arange(t, device=input_ids.device)
        x = self.bert.embeddings(input_ids, positions)
        allowed = (positions[None, :] <= positions[:, None]).to(torch.float32)  # key j <= query i
        self_bias = ((1.0 - allowed) * SELF_ATTENTION_MASK_VALUE)[None, None]
        memory_bias = cross_attention_bias(memory_mask)
        for layer in self.layers:
            x = layer(x, self_bias, memory, memory_bias)
        return self.logits(x[:, -1])

    def cross_kv(self, memory: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """memory [B, S, D] -> per layer (K, V), each [B, H, S, hd]."""
        return [layer.crossattention.self.keys_values(memory) for layer in self.layers]

    def step(
        self,
        input_ids: torch.Tensor,
        position_ids: torch.Tensor,
        past: list[tuple[torch.Tensor, torch.Tensor]],
        past_mask: torch.Tensor,
        cross: list[tuple[torch.Tensor, torch.Tensor]],
        memory_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """One cached step for K beam slots per item.

        input_ids [B, K]; position_ids [B]; past per layer (K, V) [B, K, H, P, hd]; past_mask [B, P];
        cross per layer (K, V) [B, H, S, hd]; memory_mask [B, S]
        -> logits [B, K, V], present per layer (K, V) [B, K, H, 1, hd].
        """
        heads = self.cfg.num_attention_heads
        x = self.bert.embeddings(input_ids, position_ids[:, None])  # [B, K, D]
        current = past_mask.new_ones(past_mask.shape[0], 1)
        self_bias = self_attention_bias(torch.cat([past_mask, current], dim=1))[:, None]  # [B,1,1,1,P+1]
        memory_bias = cross_attention_bias(memory_mask)  # [B, 1, 1, S]
        presents = []
        for layer, (past_k, past_v), (cross_k, cross_v) in zip(self.layers, past, cross, strict=True):
            sa = layer.attention.self
            token = x[:, :, None, :]  # [B, K, 1, D]
            q = split_heads(sa.query(token), heads)  # [B, K, H, 1, hd]
            k_new, v_new = sa.keys_values(token)
            k = torch.cat([past_k, k_new], dim=3)
            v = torch.cat([past_v, v_new], dim=3)
            context = merge_heads(attend(q, k, v, self_bias))[:, :, 0, :]  # [B, K, D]
            h = layer.attention.output(context, x)
            ca = layer.crossattention.self
            q = split_heads(ca.query(h), heads)  # [B, H, K, hd]: beams on the query axis
            context = merge_heads(attend(q, cross_k, cross_v, memory_bias))  # [B, K, D]
            h = layer.crossattention.output(context, h)
            x = layer.feed_forward(h)
            presents.append((k_new, v_new))
        return self.logits(x), presents
