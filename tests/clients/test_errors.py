"""Bad input through the openai client keeps the error table: 400 `invalid_request`, the message
naming the field and the value (`openai.BadRequestError`)."""

import openai
import pytest

from harness import goldens
from harness.chat import MODEL
from harness.errors import assert_names

IMAGE = goldens.medium("image_97x131").chat_parts()[0]
VIDEO = goldens.medium("frames_20_mp4").chat_parts()[0]
REMOTE = "http://example.com/cat.png"
# The server's defaults: --max-frames, --max-beam-size.
MAX_FRAMES = 64
MAX_BEAM_SIZE = 10


def refusal(client: openai.OpenAI, content: list[dict], **fields: object) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": content}], **fields
        )
    return refused.value


def test_two_media_name_the_second(client: openai.OpenAI) -> None:
    error = refusal(client, [{"type": "text", "text": "What is it?"}, IMAGE, VIDEO])
    assert_names(error, "messages[0].content[2]")


def test_an_unknown_part_type_is_named(client: openai.OpenAI) -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    error = refusal(client, [audio, IMAGE])
    assert_names(error, "messages[0].content[0].type", "input_audio")


def test_a_remote_url_is_refused_while_media_urls_are_off(client: openai.OpenAI) -> None:
    error = refusal(client, [{"type": "image_url", "image_url": {"url": REMOTE}}])
    assert_names(error, "messages[0].content[0]", REMOTE, "--media-urls")


@pytest.mark.parametrize(
    ("n", "extra"),
    [(4, {"beam_size": 3}), (MAX_BEAM_SIZE + 1, {})],
    ids=["over-beam_size", "over-max-beam-size"],
)
def test_n_over_the_beam_size(client: openai.OpenAI, n: int, extra: dict) -> None:
    error = refusal(client, [IMAGE], n=n, extra_body=extra)
    assert_names(error, "n", str(n))


@pytest.mark.parametrize("value", [0, MAX_FRAMES + 1])
@pytest.mark.parametrize("where", ["num_frames", "media_io_kwargs"])
def test_num_frames_out_of_range(client: openai.OpenAI, where: str, value: int) -> None:
    extra = (
        {"num_frames": value}
        if where == "num_frames"
        else {"media_io_kwargs": {"video": {"num_frames": value}}}
    )
    error = refusal(client, [VIDEO], extra_body=extra)
    assert_names(error, "num_frames", str(value))


def test_embeddings_dimensions_other_than_the_width(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.embeddings.create(model=MODEL, input="a dog", dimensions=128)
    assert_names(refused.value, "dimensions", "128", "256")
