"""Streamed chat: the deltas concatenate to the non-streamed answer for every golden case, the
stream ends with `data: [DONE]`, and `include_usage` adds a last chunk with the usage only."""

import json

import httpx
import openai
import pytest

from harness import goldens, sse
from harness.chat import MODEL, user_message

# (medium, question): every golden VQA case, and a caption of every golden medium and the MP4.
CASES = [(case.medium, case.question) for case in goldens.vqa_cases()] + [
    (name, None) for name in [*goldens.caption_media(), "frames_20_mp4"]
]


def case_id(case: tuple[str, str | None]) -> str:
    name, question = case
    return f"{name}:{question[:24]}" if question else f"{name}:caption"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_deltas_concatenate_to_the_answer(
    client: openai.OpenAI, case: tuple[str, str | None]
) -> None:
    messages = user_message(goldens.medium(case[0]), case[1])
    answer = client.chat.completions.create(model=MODEL, messages=messages)
    chunks = list(client.chat.completions.create(model=MODEL, messages=messages, stream=True))
    assert chunks, "a stream has chunks"
    assert {(c.id, c.created, c.model, c.object) for c in chunks} == {
        (chunks[0].id, chunks[0].created, MODEL, "chat.completion.chunk")
    }, "every chunk carries the same id, created and model"
    assert chunks[0].choices[0].delta.role == "assistant"
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == answer.choices[0].message.content
    finished = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finished[-1] == answer.choices[0].finish_reason
    assert all(reason is None for reason in finished[:-1])


def test_the_wire_ends_with_done(http: httpx.Client) -> None:
    body = {
        "model": MODEL,
        "messages": user_message(goldens.medium("frames_7")),
        "stream": True,
    }
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        events = list(sse.data_fields(response.iter_lines()))
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert chunks, "chunks come before [DONE]"
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")


def test_include_usage_adds_a_last_chunk_with_the_usage(client: openai.OpenAI) -> None:
    messages = user_message(goldens.medium("image_97x131"), "Who is wearing a RED hat?!")
    answer = client.chat.completions.create(model=MODEL, messages=messages)
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=messages, stream=True, stream_options={"include_usage": True}
        )
    )
    *content, last = chunks
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.model_dump() == answer.usage.model_dump()
    assert all(chunk.usage is None and chunk.choices for chunk in content)
    assert "".join(c.choices[0].delta.content or "" for c in content) == (
        answer.choices[0].message.content
    )
