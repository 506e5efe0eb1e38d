"""A plain server-sent-events reader, to see the stream as it is on the wire (the openai client
hides `data: [DONE]`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def data_fields(lines: Iterable[str]) -> Iterator[str]:
    """The `data` of each event: its `data:` lines joined by newlines, one per blank-line-ended
    event (comments and other fields skipped)."""
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield "\n".join(data)
            data = []
        elif line.startswith("data:"):
            value = line[len("data:") :]
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)
