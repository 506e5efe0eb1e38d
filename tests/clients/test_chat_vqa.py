"""Chat with a medium and a question answers as `/v1/vqa`, for every golden case."""

import httpx
import openai
import pytest

from harness import goldens, native
from harness.chat import MODEL, user_message


@pytest.mark.parametrize("case", goldens.vqa_cases(), ids=str)
def test_chat_with_a_question_equals_vqa(
    client: openai.OpenAI, http: httpx.Client, case: goldens.VqaCase
) -> None:
    medium = goldens.medium(case.medium)
    completion = client.chat.completions.create(
        model=MODEL, messages=user_message(medium, case.question)
    )
    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    [choice] = completion.choices
    assert choice.message.role == "assistant"
    assert choice.message.content == native.vqa(http, medium, case.question)
    assert choice.finish_reason in ("stop", "length")
    usage = completion.usage
    assert usage.prompt_tokens > 0
    assert usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
