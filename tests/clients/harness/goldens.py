"""The demo package's PyTorch goldens (`models/demo/goldens/goldens.json`, schema in
`docs/goldens.md`): the media and the questions every route is checked on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from harness.media import Medium
from harness.paths import FRAMES_20_MP4, demo_package

GOLDENS_DIR = demo_package() / "goldens"


@dataclass(frozen=True)
class VqaCase:
    medium: str
    question: str

    def __str__(self) -> str:
        return f"{self.medium}:{self.question[:24]}"


@cache
def index() -> dict:
    return json.loads((GOLDENS_DIR / "goldens.json").read_text())


@cache
def medium(name: str) -> Medium:
    """A golden input by name, as committed (the JPEG as a JPEG: every route decodes it alike),
    or `frames_20_mp4`: the lossless video of `frames_20`."""
    if name == "frames_20_mp4":
        return Medium(name, "video", (FRAMES_20_MP4,))
    entry = next(m for m in index()["media"] if m["name"] == name)
    files = tuple(GOLDENS_DIR / file for file in entry["files"])
    kind = "frames" if entry["kind"] == "frames" else "image"
    return Medium(name, kind, files)


def media_names() -> list[str]:
    """Every golden medium."""
    return [m["name"] for m in index()["media"]]


def vqa_cases() -> list[VqaCase]:
    """Every golden (medium, question) pair, once (the goldens repeat some with other decoding
    parameters; chat asks with the released ones)."""
    seen = dict.fromkeys(VqaCase(v["media"], v["question"]) for v in index()["vqa"])
    return list(seen)


def caption_media() -> list[str]:
    """Every medium with a golden caption, once."""
    return list(dict.fromkeys(c["media"] for c in index()["captions"]))


def texts() -> list[str]:
    """The golden embedding texts."""
    return [t["text"] for t in index()["embeddings"]["text"]]
