"""Which official state-dict keys a served module needs, and which it never uses.

Key layout (architecture note §5.3): the official classes' attribute paths. Momentum copies (`*_m`)
and the CLIP text tower inside `XCLIP` are training-only; some other weights exist in every
checkpoint but no inference path reads them (the fusion embeddings and its first layers, the dead
`intermediate_vision`/`output_vision` blocks, `visual.proj`, the decoder's `latents`).
"""

from __future__ import annotations

import re

# Official load order for keys that share one parameter: the last one present wins (as
# `load_state_dict` copies modules in order and `cls.predictions` comes after `bert`).
TIED_GROUPS: dict[str, list[str]] = {
    "text_decoder.bert.embeddings.word_embeddings.weight": [
        "text_decoder.bert.embeddings.word_embeddings.weight",
        "text_decoder.cls.predictions.decoder.weight",
    ],
    "text_decoder.cls.predictions.decoder.weight": [
        "text_decoder.bert.embeddings.word_embeddings.weight",
        "text_decoder.cls.predictions.decoder.weight",
    ],
    "text_decoder.cls.predictions.bias": [
        "text_decoder.cls.predictions.bias",
        "text_decoder.cls.predictions.decoder.bias",
    ],
}

MOMENTUM = "momentum copies (*_m)"
CLIP_TEXT = "CLIP text tower"
UNUSED = "present but unused by inference"

_WRAPPER_SEGMENT = "_checkpoint_wrapped_module."


def strip_wrappers(key: str) -> str:
    """fairscale checkpoint_wrapper artefacts (inferred; harmless when absent)."""
    return key.replace(_WRAPPER_SEGMENT, "")


def remap_pretrain(key: str) -> str:
    """The official fine-tune scripts' pretrain remap (note §5.4); a no-op on fine-tuned layouts."""
    if ("fusion" in key or "bert" in key) and "decode" not in key:
        return key.replace("fusion.", "").replace("bert.", "")
    return key


def drop_category(key: str) -> str:
    """Why a key no served module needs is dropped."""
    first = key.split(".", 1)[0]
    if first.endswith("_m"):
        return MOMENTUM
    if key.startswith("visual_encoder.") and not key.startswith("visual_encoder.visual."):
        return CLIP_TEXT
    return UNUSED


_LAYER = re.compile(
    r"^(text_encoder\.encoder|fusion_encoder\.encoder|text_decoder\.bert\.encoder)\.layer\.(\d+)\."
)


def layer_counts(keys: list[str]) -> dict[str, int]:
    """How many layers each BERT stack of a checkpoint has (max index + 1)."""
    counts: dict[str, int] = {}
    for key in keys:
        m = _LAYER.match(key)
        if m:
            counts[m.group(1)] = max(counts.get(m.group(1), 0), int(m.group(2)) + 1)
    return counts
