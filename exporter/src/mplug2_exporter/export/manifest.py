"""manifest.json exactly as docs/model-package.md specifies it."""

from __future__ import annotations

from pathlib import Path

from .. import __version__
from ..beam_search import DecodeParams
from ..config import ModelConfig
from ..digest import sha256_file
from ..preprocess import CLIP_MEAN, CLIP_STD
from ..text import CAPTION_MAX_WORDS, QUESTION_MAX_WORDS
from ..tokenizer import SPECIAL_TOKENS
from .graphs import GraphSpec

FORMAT_VERSION = 1
NUM_FRAMES = 16  # model_num_frames = test_num_frames in the released configs


def decoding_entry(p: DecodeParams, prompt: str | None) -> dict:
    return {
        "beam_size": p.beam_size,
        "min_length": p.min_length,
        "max_length": p.max_length,
        "length_penalty": p.length_penalty,
        "bos_token_id": p.bos,
        "eos_token_id": p.eos,
        "prompt": prompt,
    }


def config_entry(cfg: ModelConfig) -> dict:
    v, t = cfg.vision, cfg.text
    heads = None
    if cfg.heads is not None:
        heads = {"embed_dim": cfg.heads.embed_dim, "temp": cfg.heads.temp}
    return {
        "vision": {
            "width": v.width,
            "layers": v.layers,
            "heads": v.heads,
            "patch_size": v.patch_size,
            "image_size": v.image_size,
        },
        "text": {
            "hidden_size": t.hidden_size,
            "num_attention_heads": t.num_attention_heads,
            "intermediate_size": t.intermediate_size,
            "text_encoder_layers": t.text_encoder_layers,
            "num_uni_layer": t.num_uni_layer,
            "fusion_layers": t.fusion_layers,
            "text_decode_layers": t.text_decode_layers,
            "vocab_size": t.vocab_size,
            "max_position_embeddings": t.max_position_embeddings,
            "num_latents": t.num_latents,
            "layer_norm_eps": t.layer_norm_eps,
        },
        "heads": heads,
    }


def build_manifest(
    *,
    out_dir: Path,
    name: str,
    source: str,
    source_sha256: str | None,
    finetuned_for: str | None,
    dtype: str,
    cfg: ModelConfig,
    decoding: dict[str, tuple[DecodeParams, str | None]],
    tasks: list[str],
    graphs: dict[str, tuple[GraphSpec, Path, list[Path]]],
    files: list[Path],
) -> dict:
    graph_entries = {}
    for graph_name, (spec, file, external) in graphs.items():
        graph_entries[graph_name] = {
            "file": file.name,
            "sha256": sha256_file(file),
            "external_data": [p.name for p in external],
            "inputs": [t.to_json() for t in spec.inputs],
            "outputs": [t.to_json() for t in spec.outputs],
        }
    extra_files = files + [p for (_, _, external) in graphs.values() for p in external]
    return {
        "format_version": FORMAT_VERSION,
        "model": {
            "name": name,
            "source_checkpoint": source,
            "source_checkpoint_sha256": source_sha256,
            "finetuned_for": finetuned_for,
            "exporter_version": __version__,
            "dtype": dtype,
        },
        "config": config_entry(cfg),
        "preprocess": {
            "image_size": cfg.vision.image_size,
            "resize": "nearest",
            "mean": list(CLIP_MEAN),
            "std": list(CLIP_STD),
            "num_frames": NUM_FRAMES,
            "sampling": "middle",
        },
        "text": {
            "question": {"rule": "pre_question", "max_words": QUESTION_MAX_WORDS},
            "caption": {"rule": "pre_caption", "max_words": CAPTION_MAX_WORDS},
            "max_tokens": cfg.text.max_position_embeddings,
            "special_tokens": {k.strip("[]").lower(): v for k, v in SPECIAL_TOKENS.items()},
            "add_sep": False,
        },
        "decoding": {task: decoding_entry(p, prompt) for task, (p, prompt) in decoding.items()},
        "classify": {"prompt_template": "{}"},
        "tasks": tasks,
        "graphs": graph_entries,
        "files": {p.relative_to(out_dir).as_posix(): sha256_file(p) for p in extra_files},
    }
