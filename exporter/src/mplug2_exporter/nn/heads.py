"""ITC / ITM heads of the mPLUG family (present only in checkpoints that carry them)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Projection(nn.Module):
    """`normalize(proj(x))`: an ITC embedding from a [CLS] state."""

    def __init__(self, proj: nn.Linear):
        super().__init__()
        self.proj = proj

    def forward(self, cls_state: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.proj(cls_state), dim=-1)
