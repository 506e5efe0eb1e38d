"""The fusion module: the last `fusion_layers` of the official FusionLayers (text attends to vision).

The official class builds `num_hidden_layers` layers and runs only the last `fusion_layers`; only
those are built here, under their official indices (`fusion_encoder.encoder.layer.<i>.`).
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import TextConfig
from .bert import BertLayer
from .numerics import cross_attention_bias, self_attention_bias


class FusionEncoder(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.layer = nn.ModuleDict(
            {
                str(i): BertLayer(cfg, cross_attention=True)
                for i in range(cfg.fusion_start, cfg.fusion_num_layers)
            }
        )


class Fusion(nn.Module):
    """Official key prefix `fusion_encoder.` (its embeddings are never used)."""

    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.encoder = FusionEncoder(cfg)

    def forward(
        self,
        text_embeds: torch.Tensor,
        attention_mask: torch.Tensor,
        vision_embeds: torch.Tensor,
        vision_mask: torch.Tensor,
    ) -> torch.Tensor:
        """-> fused_text [B, L, D]; the vision tokens pass through unchanged."""
        self_bias = self_attention_bias(attention_mask)
        memory_bias = cross_attention_bias(vision_mask)
        x = text_embeds
        for layer in self.encoder.layer.values():
            x = layer(x, self_bias, vision_embeds, memory_bias)
        return x
