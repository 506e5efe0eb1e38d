"""Embeddings through the openai client: its default (base64, decoded by the client) and
`dimensions` at the model's width give the float answer."""

import base64
import json
import struct

import openai
import pytest

from harness import goldens
from harness.chat import MODEL

WIDTH = 256


@pytest.fixture(scope="module")
def floats(client: openai.OpenAI) -> list[list[float]]:
    answer = client.embeddings.create(model=MODEL, input=goldens.texts(), encoding_format="float")
    vectors = [item.embedding for item in sorted(answer.data, key=lambda item: item.index)]
    assert [len(vector) for vector in vectors] == [WIDTH] * len(goldens.texts())
    return vectors


def test_the_clients_default_base64_equals_the_float_answer(
    client: openai.OpenAI, floats: list[list[float]]
) -> None:
    raw = client.embeddings.with_raw_response.create(model=MODEL, input=goldens.texts())
    sent = json.loads(raw.http_request.content)
    assert sent["encoding_format"] == "base64", "the client asks for base64 by default"
    encoded = raw.http_response.json()["data"][0]["embedding"]
    assert isinstance(encoded, str), "the server answers base64 when asked"
    assert list(struct.unpack(f"<{WIDTH}f", base64.b64decode(encoded))) == floats[0]
    decoded = raw.parse()
    assert [item.embedding for item in decoded.data] == floats
    assert decoded.usage.prompt_tokens > 0
    assert decoded.usage.total_tokens == decoded.usage.prompt_tokens


def test_dimensions_at_the_models_width_equal_the_float_answer(
    client: openai.OpenAI, floats: list[list[float]]
) -> None:
    # The client's default (base64, decoded by the client) and floats.
    for encoding in ({}, {"encoding_format": "float"}):
        answer = client.embeddings.create(
            model=MODEL, input=goldens.texts(), dimensions=WIDTH, **encoding
        )
        assert [item.embedding for item in answer.data] == floats, encoding
