"""Chat with a medium and no text captions it as `/v1/caption`: every golden medium, and an MP4
sent as a `video_url` data URL."""

import httpx
import openai
import pytest

from harness import goldens, native
from harness.chat import MODEL, user_message


@pytest.mark.parametrize("name", [*goldens.caption_media(), "frames_20_mp4"])
def test_chat_without_text_equals_caption(
    client: openai.OpenAI, http: httpx.Client, name: str
) -> None:
    medium = goldens.medium(name)
    completion = client.chat.completions.create(model=MODEL, messages=user_message(medium))
    [choice] = completion.choices
    assert choice.message.content == native.caption(http, medium)
    assert choice.message.content, "a caption is never empty"


def test_a_video_url_is_captioned_as_its_frames(client: openai.OpenAI) -> None:
    # frames_20.mp4 is lossless: its decoded frames are the frames_20 PNGs.
    captions = [
        client.chat.completions.create(model=MODEL, messages=user_message(goldens.medium(name)))
        .choices[0]
        .message.content
        for name in ("frames_20_mp4", "frames_20")
    ]
    assert captions[0] == captions[1]


def test_a_text_only_system_turn_does_not_change_the_caption(client: openai.OpenAI) -> None:
    medium = goldens.medium("image_97x131")
    plain = client.chat.completions.create(model=MODEL, messages=user_message(medium))
    with_system = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": "You describe images."}, *user_message(medium)],
    )
    assert with_system.choices[0].message.content == plain.choices[0].message.content
