"""The mPLUG-2 modules a served task can use, laid out under the official state-dict names."""

from __future__ import annotations

import torch
from torch import nn

from ..config import ModelConfig
from .decoder import TextDecoder
from .fusion import Fusion
from .heads import Projection
from .text_encoder import TextEncoder
from .vision import VisualEncoder


class Mplug2(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        text = cfg.text
        self.visual_encoder = VisualEncoder(cfg.vision)
        if cfg.visn_fc:
            self.visn_fc = nn.Linear(cfg.vision.width, text.hidden_size)
            self.visn_layer_norm = nn.LayerNorm(text.hidden_size, eps=1e-12)
        self.text_encoder = TextEncoder(text)
        self.visn_emb_norm = nn.LayerNorm(text.hidden_size, eps=1e-12)
        self.fusion_encoder = Fusion(text)
        self.text_decoder = TextDecoder(text)
        heads = cfg.heads
        if heads is not None:
            if heads.vision_proj:
                self.vision_proj = nn.Linear(text.hidden_size, heads.embed_dim)
            if heads.text_proj:
                self.text_proj = nn.Linear(text.hidden_size, heads.embed_dim)
            if heads.itm_head:
                self.itm_head = nn.Linear(text.hidden_size, 2)
            if heads.temp is not None:
                self.temp = nn.Parameter(torch.tensor(heads.temp))

    def vision(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """[B, 3, T, S, S] -> vision_embeds [B, 1 + T·HW, D]: encoder, universal layers, visn_emb_norm."""
        tokens = self.visual_encoder.visual(pixel_values)
        if self.cfg.visn_fc:
            tokens = self.visn_layer_norm(self.visn_fc(tokens))
        return self.visn_emb_norm(tokens + self.text_encoder.universal(tokens))

    def text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.text_encoder(input_ids, attention_mask)

    def fuse(
        self,
        text_embeds: torch.Tensor,
        attention_mask: torch.Tensor,
        vision_embeds: torch.Tensor,
        vision_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if vision_mask is None:
            vision_mask = torch.ones(vision_embeds.shape[:2], dtype=torch.int64)
        return self.fusion_encoder(text_embeds, attention_mask, vision_embeds, vision_mask)

    def vision_head(self) -> Projection | None:
        return Projection(self.vision_proj) if hasattr(self, "vision_proj") else None

    def text_head(self) -> Projection | None:
        return Projection(self.text_proj) if hasattr(self, "text_proj") else None
