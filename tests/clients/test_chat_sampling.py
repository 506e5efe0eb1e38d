"""Sampling (`temperature`, `seed`) is reproducible: a fixed seed gives the same text twice."""

import openai
import pytest

from harness import goldens
from harness.chat import MODEL, user_message

SAMPLING = {"temperature": 0.8, "seed": 7}


@pytest.mark.parametrize(
    "question", [None, "What is the man doing in the video?"], ids=["caption", "vqa"]
)
def test_a_fixed_seed_gives_the_same_text_twice(
    client: openai.OpenAI, question: str | None
) -> None:
    messages = user_message(goldens.medium("image_480x270"), question)
    first, second = (
        client.chat.completions.create(model=MODEL, messages=messages, **SAMPLING)
        .choices[0]
        .message.content
        for _ in range(2)
    )
    assert first
    assert first == second
