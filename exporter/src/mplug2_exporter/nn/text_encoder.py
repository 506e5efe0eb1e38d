"""The text encoder: BERT whose last `num_uni_layer` layers are the universal layers.

Text runs every layer in the official `norm` mode (the universal layers' cross-attention is unused
for text). Vision runs only the universal layers (official `v_module` mode): the first one replaces
its input by the learnable queries, which cross-attend to the vision tokens; the last one swaps
roles, so the vision tokens self-attend and cross-attend to the query outputs.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import TextConfig
from .bert import BertEmbeddings, BertLayer
from .numerics import self_attention_bias


class BertEncoder(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.layer = nn.ModuleList(
            BertLayer(cfg, cross_attention=i >= cfg.uni_start, latents=i == cfg.uni_start)
            for i in range(cfg.text_encoder_layers)
        )


class TextEncoder(nn.Module):
    """Official key prefix `text_encoder.`"""

    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.cfg = cfg
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = BertEncoder(cfg)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """[B, L] ids and 1/0 mask -> text_embeds [B, L, D] (mode `norm`: all layers)."""
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.embeddings(input_ids, positions)
        bias = self_attention_bias(attention_mask)
        for layer in self.encoder.layer:
            x = layer(x, bias)
        return x

    def universal(self, vision: torch.Tensor) -> torch.Tensor:
        """Vision tokens [B, N, D] -> universal-layer output [B, N, D] (mode `v_module`)."""
        # Every mask in this mode is absent or all ones (an additive zero), so none is applied.
        last = len(self.encoder.layer) - 1
        hidden = vision
        for i in range(self.cfg.uni_start, last + 1):
            layer = self.encoder.layer[i]
            memory = vision
            if layer.has_latents:
                hidden = layer.latents.expand(vision.shape[0], -1, -1)
            if i == last:
                hidden, memory = memory, hidden
            hidden = layer(hidden, None, memory, None)
        return hidden
