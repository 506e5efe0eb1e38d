"""Media preprocessing exactly as the official evaluation path (note §3.1, §8.6).

Frames are sampled with the `middle` rule, resized with PyTorch's legacy nearest interpolation to a
square (aspect ratio ignored) on float frames and cast back to integers, then `/255` and CLIP
normalization, all in float32. An image is one frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def frame_indices(num_frames: int, vlen: int) -> list[int]:
    """Official `get_frame_indices(sample='middle')`; repeats the last index when vlen < num_frames."""
    samples = min(num_frames, vlen)
    bounds = np.linspace(start=0, stop=vlen, num=samples + 1).astype(int)
    indices = [int((bounds[i] + bounds[i + 1] - 1) // 2) for i in range(samples)]
    return indices + [indices[-1]] * (num_frames - len(indices))


def resize_nearest(frames: np.ndarray, size: int) -> np.ndarray:
    """uint8 [T, H, W, 3] -> uint8 [T, size, size, 3], as the official `resize_clip(..., 'nearest')`."""
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=(size, size), mode="nearest")
    return x.permute(0, 2, 3, 1).long().numpy().astype(np.uint8)


def nearest_indices(in_size: int, out_size: int) -> list[int]:
    """Source index of each output pixel along one axis (PyTorch's rule, float32 scale)."""
    x = torch.arange(in_size, dtype=torch.float32)[None, None, None, :]
    return F.interpolate(x, size=(1, out_size), mode="nearest")[0, 0, 0].long().tolist()


def normalize(frames: np.ndarray) -> torch.Tensor:
    """uint8 [T, S, S, 3] -> float32 [3, T, S, S]: `/255` then CLIP mean/std, as ClipToTensor + Normalize."""
    x = torch.from_numpy(frames.astype(np.int64)).permute(3, 0, 1, 2) / 255.0
    mean = torch.tensor(CLIP_MEAN, dtype=torch.float32)[:, None, None, None]
    std = torch.tensor(CLIP_STD, dtype=torch.float32)[:, None, None, None]
    return (x - mean) / std


def pixel_values(frames: np.ndarray, size: int) -> tuple[np.ndarray, torch.Tensor]:
    """Already-sampled uint8 frames -> (resized uint8 frames, normalized [3, T, S, S])."""
    resized = resize_nearest(frames, size)
    return resized, normalize(resized)


def read_rgb(path: Path) -> np.ndarray:
    """uint8 [H, W, 3] with PIL's decoder."""
    with Image.open(path) as im:
        return np.array(im.convert("RGB"))
