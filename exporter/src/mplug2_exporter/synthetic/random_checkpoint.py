"""Random-weight checkpoints in the official format, reproducible from a seed on any platform.

Values come from numpy's PCG64 generator (platform-independent), filled key by key in layout order.
The scales are not BERT's (std 0.02): with those, a random model's LM logits are nearly uniform and
beam search would hinge on 1e-6 differences. Here linear weights are ~1/sqrt(fan_in) so every module
visibly shapes its output, and the LM word embeddings / output bias are large so that the next-token
scores are well separated; EOS gets a bias so that some beams end before max_length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .official_layout import Entry, Layout


@dataclass(frozen=True)
class InitScales:
    linear_gain: float = 1.0  # std = gain / sqrt(fan_in)
    bias: float = 0.1
    norm: float = 0.1  # LayerNorm weight 1 + N(0, norm), bias N(0, norm)
    embedding: float = 1.0
    token_embedding: float = 0.5
    latents: float = 1.0
    lm_embedding: float = 1.0  # the decoder's word embeddings = its LM output weight
    lm_bias: float = 1.0
    eos_bias: float = 0.0  # added to the LM bias of [SEP]
    temp: float = 0.07


EOS_TOKEN_ID = 102


def _fan_in(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]


def random_tensor(key: str, e: Entry, rng: np.random.Generator, s: InitScales) -> torch.Tensor:
    if e.kind == "position_ids":
        return torch.arange(e.shape[1], dtype=torch.int64)[None]
    if e.kind == "logit_scale":
        return torch.tensor(math.log(1 / 0.07), dtype=torch.float32)
    if e.kind == "temp":
        return torch.tensor(s.temp, dtype=torch.float32)
    normal = rng.standard_normal(e.shape)
    if e.kind in ("linear", "conv"):
        values = normal * (s.linear_gain / math.sqrt(_fan_in(e.shape)))
    elif e.kind == "norm_weight":
        values = 1.0 + normal * s.norm
    elif e.kind == "norm_bias":
        values = normal * s.norm
    else:
        scale = {
            "bias": s.bias,
            "embedding": s.embedding,
            "token_embedding": s.token_embedding,
            "word_embedding": s.embedding,
            "latents": s.latents,
            "lm_embedding": s.lm_embedding,
            "lm_bias": s.lm_bias,
        }[e.kind]
        values = normal * scale
    tensor = torch.from_numpy(values.astype(np.float32))
    if e.kind == "lm_bias":
        tensor[EOS_TOKEN_ID] += s.eos_bias
    return tensor


def random_state_dict(layout: Layout, seed: int, scales: InitScales) -> dict[str, torch.Tensor]:
    """Aliased keys share the storage of their target, as tied weights do in a saved checkpoint."""
    rng = np.random.default_rng(seed)
    state: dict[str, torch.Tensor] = {}
    for key, entry in layout.items():
        if entry.alias_of is None:
            state[key] = random_tensor(key, entry, rng, scales)
    for key, entry in layout.items():
        if entry.alias_of is not None:
            state[key] = state[entry.alias_of]
    return dict(sorted(state.items()))
