"""Synthetic, deterministic test media for the goldens: images and frame lists written as files.

Smooth gradients with a few solid shapes: they compress well (the package stays small) and have
edges, so a wrong resize index shows up in the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class MediaSpec:
    name: str
    kind: str  # "image" | "frames"
    width: int
    height: int
    frames: int = 1
    fmt: str = "png"  # "png" | "jpeg"


MEDIA = [
    MediaSpec("image_480x270", "image", 480, 270),
    MediaSpec("image_97x131", "image", 97, 131),
    MediaSpec("jpeg_160x120", "image", 160, 120, fmt="jpeg"),
    MediaSpec("frames_20", "frames", 96, 72, frames=20),
    MediaSpec("frames_7", "frames", 50, 40, frames=7),
]


def draw(width: int, height: int, seed: int, t: float = 0.0) -> np.ndarray:
    """uint8 [H, W, 3]: a colour gradient, a disc and a bar that move with t in [0, 1]."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 256, size=(4, 3))
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = x / max(width - 1, 1), y / max(height - 1, 1)
    img = (
        colours[0] * (1 - u)[..., None] * (1 - v)[..., None]
        + colours[1] * u[..., None]
        + colours[2] * (v * (1 - u))[..., None]
    )
    cx, cy = width * (0.25 + 0.5 * t), height * (0.4 + 0.2 * np.sin(2 * np.pi * t))
    disc = (x - cx) ** 2 + (y - cy) ** 2 < (0.2 * min(width, height)) ** 2
    img[disc] = colours[3]
    bar = (np.abs(x - width * (0.8 - 0.6 * t)) < max(1, width // 16)) & (y > height * 0.2)
    img[bar] = 255 - colours[3]
    return np.clip(img, 0, 255).astype(np.uint8)


def media_files(spec: MediaSpec, index: int) -> list[tuple[str, np.ndarray]]:
    """(relative file name, uint8 frame) for every file of one medium."""
    seed = 1000 + index
    if spec.kind == "image":
        return [
            (
                f"inputs/{spec.name}.{'jpg' if spec.fmt == 'jpeg' else 'png'}",
                draw(spec.width, spec.height, seed),
            )
        ]
    return [
        (
            f"inputs/{spec.name}/frame_{i:03d}.png",
            draw(spec.width, spec.height, seed, i / max(spec.frames - 1, 1)),
        )
        for i in range(spec.frames)
    ]


def write_media(root: Path, spec: MediaSpec, index: int) -> list[str]:
    names = []
    for name, pixels in media_files(spec, index):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image = Image.fromarray(pixels)
        if spec.fmt == "jpeg":
            image.save(path, format="JPEG", quality=90)
        else:
            image.save(path, format="PNG", optimize=True)
        names.append(name)
    return names
