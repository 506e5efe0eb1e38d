"""`n` asks for the n best beams: three choices, the first the single answer."""

import openai
import pytest

from harness import goldens
from harness.chat import MODEL, user_message

ASKS = {
    "vqa": ("image_480x270", "What is the man doing in the video?"),
    "caption": ("frames_7", None),
}


@pytest.mark.parametrize("ask", ASKS)
def test_n_3_gives_three_choices_the_first_the_single_answer(
    client: openai.OpenAI, ask: str
) -> None:
    name, question = ASKS[ask]
    messages = user_message(goldens.medium(name), question)
    single = client.chat.completions.create(model=MODEL, messages=messages)
    three = client.chat.completions.create(model=MODEL, messages=messages, n=3)
    assert [choice.index for choice in three.choices] == [0, 1, 2]
    assert three.choices[0].message.content == single.choices[0].message.content
    for choice in three.choices:
        assert choice.message.role == "assistant"
        assert choice.message.content
        assert choice.finish_reason in ("stop", "length")
