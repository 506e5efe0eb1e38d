"""Chat request pieces: one user message holding a medium and, for VQA, the question."""

from __future__ import annotations

from harness.media import Medium

# The model id the server serves (the demo package's manifest name).
MODEL = "mplug2-demo"


def user_message(medium: Medium, question: str | None = None) -> list[dict[str, object]]:
    """`messages` with one user message: the question's text part (none asks for a caption)
    followed by the medium's parts."""
    text = [{"type": "text", "text": question}] if question is not None else []
    return [{"role": "user", "content": [*text, *medium.chat_parts()]}]
