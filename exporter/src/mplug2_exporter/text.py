"""Text rules of the official code: question/caption normalization and answer/caption post-processing."""

from __future__ import annotations

import re

from tokenizers import Tokenizer

_PUNCTUATION = re.compile(r"([,.'!?\"()*#:;~])")
_SPACES = re.compile(r"\s{2,}")

QUESTION_MAX_WORDS = 50  # official test-time value
CAPTION_MAX_WORDS = 50


def pre_question(question: str, max_words: int = QUESTION_MAX_WORDS) -> str:
    """Official `pre_question`: lowercase, drop , . ' ! ? " ( ) * # : ; ~, `-` and `/` -> space, rstrip."""
    q = _PUNCTUATION.sub("", question.lower()).replace("-", " ").replace("/", " ")
    q = q.rstrip(" ")
    words = q.split(" ")
    return " ".join(words[:max_words]) if len(words) > max_words else q


def pre_caption(caption: str, max_words: int = CAPTION_MAX_WORDS) -> str:
    """Official `pre_caption`: as pre_question, plus `<person>` -> person and whitespace runs collapsed."""
    c = (
        _PUNCTUATION.sub("", caption.lower())
        .replace("-", " ")
        .replace("/", " ")
        .replace("<person>", "person")
    )
    c = _SPACES.sub(" ", c).rstrip("\n").strip(" ")
    words = c.split(" ")
    return " ".join(words[:max_words]) if len(words) > max_words else c


def _clean_up_tokenization(text: str) -> str:
    """transformers' `clean_up_tokenization` (the slow tokenizer's decode default)."""
    for dirty, clean in (
        (" .", "."),
        (" ?", "?"),
        (" !", "!"),
        (" ,", ","),
        (" ' ", "'"),
        (" n't", "n't"),
        (" 'm", "'m"),
        (" 's", "'s"),
        (" 've", "'ve"),
        (" 're", "'re"),
    ):
        text = text.replace(dirty, clean)
    return text


def decode_official(tokenizer: Tokenizer, ids: list[int]) -> str:
    """The official `tokenizer.decode(ids)`: tokens joined by spaces, ` ##` glued, then cleaned up."""
    tokens = [tokenizer.id_to_token(i) or "[UNK]" for i in ids]
    text = " ".join(tokens).replace(" ##", "").strip()
    return _clean_up_tokenization(text)


def answer_text(tokenizer: Tokenizer, ids: list[int]) -> str:
    """Official VQA post-processing of the best beam."""
    text = decode_official(tokenizer, ids)
    return text.replace("[SEP]", "").replace("[CLS]", "").replace("[PAD]", "").strip()


def caption_text(tokenizer: Tokenizer, ids: list[int], prompt: str | None) -> str:
    """Official caption post-processing: as answers, then keep the text after the last prompt."""
    text = answer_text(tokenizer, ids)
    if prompt:
        text = text.split(prompt)[-1].strip()
    return text
