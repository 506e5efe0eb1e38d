"""The error table as the openai client sees it: `openai.BadRequestError` with the server's
`{"error": {"type", "message"}}` body."""

from __future__ import annotations

import re

import openai


def assert_names(error: openai.BadRequestError, *names: str) -> None:
    """A 400 `invalid_request` whose message names each of `names` (a field, a value) as a
    whole word: `0` is not found in `messages[0]`, nor `n` in `an`."""
    assert error.status_code == 400, error
    assert error.type == "invalid_request", error.body
    message = error.message
    for name in names:
        pattern = rf"(?<![\w\-\[]){re.escape(name)}(?![\w\-\]])"
        assert re.search(pattern, message), f"{name!r} not named in {message!r}"
