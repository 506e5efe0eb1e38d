"""A medium as the tests send it: to the native routes (base64 fields) and to chat (content parts
with `data:` URLs)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

MIME_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".mp4": "video/mp4"}

Kind = Literal["image", "frames", "video"]


def data_url(path: Path) -> str:
    """A `data:<mime>;base64,…` URL of a file."""
    return f"data:{MIME_TYPES[path.suffix]};base64,{b64(path)}"


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


@dataclass(frozen=True)
class Medium:
    """One image, one video, or a list of images taken as the frames of one video."""

    name: str
    kind: Kind
    files: tuple[Path, ...]

    def rest_fields(self) -> dict[str, object]:
        """The media field of a native REST body: `image`, `video` or `frames`, base64."""
        if self.kind == "frames":
            return {"frames": [b64(path) for path in self.files]}
        return {self.kind: b64(self.files[0])}

    def chat_parts(self) -> list[dict[str, object]]:
        """Chat content parts: one `image_url` per image (several in one message are the
        frames of one video), or one `video_url`."""
        if self.kind == "video":
            return [{"type": "video_url", "video_url": {"url": data_url(self.files[0])}}]
        return [{"type": "image_url", "image_url": {"url": data_url(path)}} for path in self.files]
