"""The dual-vision encoder (official `VideoFormer` with `TemporalBlock`s), any number of frames.

Tokens are kept batch-first, `[(B·T), 1+HW, C]`; every op is per token or per frame, so this is the
official computation with the sequence axis moved. An image is a 1-frame video: the temporal modules
run at T=1 too (the depthwise temporal conv then sees zero padding on both sides), as officially.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import VisionConfig


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class LocalTemporal(nn.Module):
    """LN -> 1x1x1 conv down -> depthwise (3,1,1) temporal conv -> QuickGELU -> 1x1x1 conv up."""

    def __init__(self, width: int):
        super().__init__()
        bottleneck = width // 2
        self.ln = nn.LayerNorm(width)
        self.down_proj = nn.Conv3d(width, bottleneck, kernel_size=1)
        self.conv = nn.Conv3d(
            bottleneck, bottleneck, kernel_size=(3, 1, 1), padding=(1, 0, 0), groups=bottleneck
        )
        self.up_proj = nn.Conv3d(bottleneck, width, kernel_size=1)
        self.activation = QuickGELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [N, T, g, g, C] -> residual update of the same shape."""
        y = self.ln(x).permute(0, 4, 1, 2, 3)
        y = self.up_proj(self.activation(self.conv(self.down_proj(y))))
        return y.permute(0, 2, 3, 4, 1)


class VisionAttention(nn.Module):
    """torch.nn.MultiheadAttention's parameters (`in_proj_*`, `out_proj`), no mask."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.zeros(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, width = x.shape
        hd = width // self.heads
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        qkv = qkv.reshape(n, length, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        probs = torch.softmax(torch.matmul(q * hd**-0.5, k.transpose(-1, -2)), dim=-1)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(n, length, width)
        return self.out_proj(out)


class Mlp(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.c_fc = nn.Linear(width, 4 * width)
        self.gelu = QuickGELU()
        self.c_proj = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(self.gelu(self.c_fc(x)))


class TemporalBlock(nn.Module):
    def __init__(self, width: int, heads: int, grid: int):
        super().__init__()
        self.grid = grid
        self.lmhra1 = LocalTemporal(width)
        self.attn = VisionAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.lmhra2 = LocalTemporal(width)
        self.mlp = Mlp(width)
        self.ln_2 = nn.LayerNorm(width)

    def temporal(self, module: LocalTemporal, x: torch.Tensor, frames: torch.Tensor | int) -> torch.Tensor:
        """Applies a LocalTemporal residual to the patch tokens (not the class token) of every frame."""
        cls, patches = x[:, :1], x[:, 1:]
        nt, hw, width = patches.shape
        p = patches.reshape(-1, frames, self.grid, self.grid, width)
        p = p + module(p)
        return torch.cat([cls, p.reshape(nt, hw, width)], dim=1)

    def forward(self, x: torch.Tensor, frames: torch.Tensor | int) -> torch.Tensor:
        x = self.temporal(self.lmhra1, x, frames)
        x = x + self.attn(self.ln_1(x))
        x = self.temporal(self.lmhra2, x, frames)
        return x + self.mlp(self.ln_2(x))


class TemporalTransformer(nn.Module):
    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.resblocks = nn.ModuleList(
            TemporalBlock(cfg.width, cfg.heads, cfg.grid) for _ in range(cfg.layers)
        )


class VideoFormer(nn.Module):
    """Official key prefix `visual_encoder.visual.` (`proj` exists in checkpoints but is never used)."""

    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.cfg = cfg
        p = cfg.patch_size
        self.conv1 = nn.Conv3d(3, cfg.width, kernel_size=(1, p, p), stride=(1, p, p), bias=False)
        self.class_embedding = nn.Parameter(torch.zeros(cfg.width))
        self.positional_embedding = nn.Parameter(torch.zeros(cfg.patches_per_frame + 1, cfg.width))
        self.ln_pre = nn.LayerNorm(cfg.width)
        self.transformer = TemporalTransformer(cfg)
        self.ln_post = nn.LayerNorm(cfg.width)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """pixels [B, 3, T, S, S] (normalized) -> [B, 1 + T·HW, width]"""
        batch = pixels.shape[0]
        width, hw = self.cfg.width, self.cfg.patches_per_frame
        x = self.conv1(pixels)  # [B, C, T, g, g]
        frames = x.shape[2]
        x = x.permute(0, 2, 3, 4, 1).reshape(-1, hw, width)  # [(B·T), HW, C]
        cls = self.class_embedding.expand(x.shape[0], 1, width)
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.positional_embedding)
        for block in self.transformer.resblocks:
            x = block(x, frames)
        x = x.reshape(batch, -1, hw + 1, width)  # [B, T, 1+HW, C]
        cls = x[:, :, 0, :].mean(dim=1, keepdim=True)  # class token: mean over frames
        patches = x[:, :, 1:, :].reshape(batch, -1, width)  # all frames' patches, frame-major
        return self.ln_post(torch.cat([cls, patches], dim=1))


class VisualEncoder(nn.Module):
    """Official `XCLIP` (key prefix `visual_encoder.`); only `.visual` is used, the CLIP text tower is not."""

    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.visual = VideoFormer(cfg)
