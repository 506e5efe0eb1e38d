"""Golden reference outputs computed by the PyTorch modules (never ONNX). Schema: docs/goldens.md."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import PIL
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer

from ..beam_search import BeamResult, DecodeParams
from ..nn.model import Mplug2
from ..pipelines import CAPTION_DECODING, CAPTION_PROMPT, VQA_DECODING, Reference, caption_memory, vqa_memory
from ..preprocess import frame_indices, nearest_indices, pixel_values, read_rgb
from ..text import answer_text, caption_text, decode_official, pre_caption, pre_question
from .media import MEDIA, MediaSpec, write_media

GOLDENS_FORMAT = 1
NUM_FRAMES = 16

TEXTS = [
    "What is the man doing in the video?",
    "Who is wearing a RED hat?!",
    "Is the café open -- yes/no?",
    "A dog-friendly park: (really) nice; isn't it ~ #1",
    "how many   people are there",
    "Naïve Zoë's crème brûlée at 5 o'clock",
    " ".join(["word"] * 48 + ["beyond", "the", "fifty", "word", "limit", "here"]),
]
SAMPLING_VLENS = [1, 2, 3, 7, 15, 16, 17, 20, 31, 32, 33, 100, 1000]
RESIZE_PAIRS = [
    (480, 224),
    (62, 224),
    (76, 224),
    (124, 224),
    (270, 224),
    (1000, 224),
    (224, 224),
    (480, 64),
    (270, 64),
    (97, 64),
    (131, 64),
    (7, 64),
    (64, 64),
]
POSTPROCESS_TEXTS = [
    ("a video of a dog running on the grass", True),
    ("the man's hat isn't red, is it? yes!", True),
    ("a video of a video of a cat", True),
    ("two people play tennis", False),
    ("unaffable xylophonists", True),
]
MATCH_TEXTS = ["a red disc on a gradient", "a dog runs in the park", "Two people, one car."]
CLASSIFY_LABELS = ["dog", "cat", "a red car", "person", "disc"]


@dataclass
class Goldens:
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    index: dict = field(default_factory=dict)

    def tensor(self, name: str, value: torch.Tensor | np.ndarray) -> str:
        t = torch.from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray) else value
        self.tensors[name] = t.detach().contiguous().clone()
        return name


def finite_or_none(value):
    """JSON has no infinities: a margin with nothing to compare against becomes null."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_or_none(v) for v in value]
    return value


def params_json(p: DecodeParams) -> dict:
    return asdict(p)


def beam_json(result: BeamResult) -> dict:
    return {
        "tokens": result.tokens,
        "score": result.score,
        "min_margin": result.min_margin,
        "final_margin": result.final_margin,
        "steps": [asdict(s) for s in result.steps],
    }


def media_entry(
    g: Goldens, ref: Reference, root: Path, spec: MediaSpec, i: int, size: int
) -> tuple[dict, torch.Tensor]:
    files = write_media(root, spec, i)
    decoded = [read_rgb(root / f) for f in files]
    indices = [0] if spec.kind == "image" else frame_indices(NUM_FRAMES, len(decoded))
    resized, pixels = pixel_values(np.stack([decoded[j] for j in indices]), size)
    vision = ref.model.vision(pixels[None])
    key = f"media.{spec.name}"
    entry = {
        "name": spec.name,
        "kind": spec.kind,
        "files": files,
        "source_size": [spec.width, spec.height],
        "decoder": f"PIL {PIL.__version__} (libjpeg)" if spec.fmt == "jpeg" else "png (lossless)",
        "frame_indices": indices,
        "frames": g.tensor(f"{key}.frames", resized),
        "pixel_values": g.tensor(f"{key}.pixel_values", pixels),
        "vision_embeds": g.tensor(f"{key}.vision_embeds", vision[0]),
    }
    if spec.fmt == "jpeg":
        entry["decoded"] = g.tensor(f"{key}.decoded", decoded[0])
    return entry, vision


def text_entries(g: Goldens, ref: Reference) -> list[dict]:
    out = []
    for i, text in enumerate(TEXTS):
        q_ids, c_ids = ref.question_ids(text), ref.caption_ids(text)
        out.append(
            {
                "text": text,
                "question": {"normalized": pre_question(text), "input_ids": q_ids},
                "caption": {"normalized": pre_caption(text), "input_ids": c_ids},
                "text_embeds": g.tensor(f"texts.{i}.text_embeds", ref.text_embeds(q_ids)[0]),
            }
        )
    return out


def text_batch_entry(g: Goldens, ref: Reference, texts: list[dict]) -> dict:
    """The first three questions as one right-padded batch: batched equals single."""
    ids = [t["question"]["input_ids"] for t in texts[:3]]
    width = max(map(len, ids))
    input_ids = torch.tensor([x + [0] * (width - len(x)) for x in ids])
    mask = (torch.arange(width)[None] < torch.tensor([len(x) for x in ids])[:, None]).long()
    return {
        "texts": [0, 1, 2],
        "input_ids": input_ids.tolist(),
        "attention_mask": mask.tolist(),
        "text_embeds": g.tensor("text_batch.text_embeds", ref.model.text(input_ids, mask)),
    }


def postprocess_entries(tokenizer: Tokenizer) -> list[dict]:
    """Token ids -> the official decode, VQA answer and caption strings (prompt "a video of")."""
    out = []
    for text, eos in POSTPROCESS_TEXTS:
        ids = tokenizer.encode(text).ids + ([CAPTION_DECODING.eos] if eos else [])
        out.append(
            {
                "ids": ids,
                "decoded": decode_official(tokenizer, ids),
                "answer": answer_text(tokenizer, ids),
                "caption": caption_text(tokenizer, ids, CAPTION_PROMPT),
            }
        )
    sep, pad = CAPTION_DECODING.eos, 0
    ids = [*tokenizer.encode("a video of a man").ids, sep, *tokenizer.encode("cooking").ids[1:], pad]
    out.append(
        {
            "ids": ids,
            "decoded": decode_official(tokenizer, ids),
            "answer": answer_text(tokenizer, ids),
            "caption": caption_text(tokenizer, ids, CAPTION_PROMPT),
        }
    )
    return out


def generate(model: Mplug2, tokenizer: Tokenizer, root: Path) -> dict:
    """Writes the inputs and `goldens.json` + `tensors.safetensors` under root; returns the index."""
    root.mkdir(parents=True, exist_ok=True)
    g, ref, size = Goldens(), Reference(model, tokenizer), model.cfg.vision.image_size
    with torch.no_grad():
        media, vision = [], {}
        for i, spec in enumerate(MEDIA):
            entry, vision[spec.name] = media_entry(g, ref, root, spec, i, size)
            media.append(entry)
        texts = text_entries(g, ref)
        index = {
            "format_version": GOLDENS_FORMAT,
            "tensors_file": "tensors.safetensors",
            "num_frames": NUM_FRAMES,
            "image_size": size,
            "preprocess": {
                "frame_sampling": [
                    {"num_frames": NUM_FRAMES, "vlen": n, "indices": frame_indices(NUM_FRAMES, n)}
                    for n in SAMPLING_VLENS
                ],
                "nearest_resize": [
                    {"in": a, "out": b, "indices": nearest_indices(a, b)} for a, b in RESIZE_PAIRS
                ],
            },
            "media": media,
            "texts": texts,
            "text_batch": text_batch_entry(g, ref, texts),
            "postprocess": postprocess_entries(tokenizer),
        }
        index.update(task_entries(g, ref, vision, texts))
    save_file(g.tensors, str(root / "tensors.safetensors"))
    text = json.dumps(finite_or_none(index), indent=1, allow_nan=False)
    (root / "goldens.json").write_text(text + "\n")
    return index


def task_entries(g: Goldens, ref: Reference, vision: dict[str, torch.Tensor], texts: list[dict]) -> dict:
    model, names = ref.model, list(vision)
    captions, vqa, fusion = [], [], []
    for name in names:
        result, text = ref.caption(vision[name])
        captions.append(
            {
                "media": name,
                "params": params_json(CAPTION_DECODING),
                "prompt": CAPTION_PROMPT,
                "text": text,
                **beam_json(result),
            }
        )
    overrides = [("image_97x131", DecodeParams(1, 4, 20)), ("frames_7", DecodeParams(3, 2, 8))]
    for name, params in overrides:
        result, text = ref.caption(vision[name], params)
        captions.append(
            {
                "media": name,
                "params": params_json(params),
                "prompt": CAPTION_PROMPT,
                "text": text,
                **beam_json(result),
            }
        )
    questions = [(name, i % 6) for i, name in enumerate(names)] + [("image_480x270", 6)]
    for k, (name, qi) in enumerate(questions):
        question = TEXTS[qi]
        ids = texts[qi]["question"]["input_ids"]
        mask = torch.ones(1, len(ids), dtype=torch.int64)
        fused = model.fuse(ref.text_embeds(ids), mask, vision[name])
        fusion.append({"media": name, "text": qi, "fused_text": g.tensor(f"fusion.{k}.fused_text", fused[0])})
        result, answer = ref.vqa(vision[name], question)
        vqa.append(
            {
                "media": name,
                "question": question,
                "text": qi,
                "params": params_json(VQA_DECODING),
                "answer": answer,
                **beam_json(result),
            }
        )
    for name, qi, params in [
        ("frames_20", 1, DecodeParams(1, 1, 10)),
        ("image_480x270", 2, DecodeParams(4, 3, 6)),
    ]:
        result, answer = ref.vqa(vision[name], TEXTS[qi], params)
        vqa.append(
            {
                "media": name,
                "question": TEXTS[qi],
                "text": qi,
                "params": params_json(params),
                "answer": answer,
                **beam_json(result),
            }
        )
    first_step = first_step_entries(g, ref, vision, texts)
    margins = [e["min_margin"] for e in captions + vqa]
    return {
        "fusion": fusion,
        "decoder_first_step": first_step,
        "captions": captions,
        "vqa": vqa,
        "min_beam_margin": min(margins),
        **head_entries(g, ref, vision),
    }


def first_step_entries(g: Goldens, ref: Reference, vision: dict, texts: list[dict]) -> list[dict]:
    decoder, bos = ref.model.text_decoder, torch.tensor([[CAPTION_DECODING.bos]])
    memories = [("caption", "image_480x270", None, caption_memory(vision["image_480x270"]))]
    ids = texts[0]["question"]["input_ids"]
    mask = torch.ones(1, len(ids), dtype=torch.int64)
    fused = ref.model.fuse(ref.text_embeds(ids), mask, vision["frames_20"])
    memories.append(("vqa", "frames_20", 0, vqa_memory(vision["frames_20"], fused, mask)))
    out = []
    for k, (task, name, text, memory) in enumerate(memories):
        logits = decoder.full(bos, memory.states, memory.mask)[0]
        out.append(
            {
                "task": task,
                "media": name,
                "text": text,
                "input_ids": [CAPTION_DECODING.bos],
                "memory_mask": memory.mask[0].tolist(),
                "logits": g.tensor(f"decoder_first_step.{k}.logits", logits),
            }
        )
    return out


def head_entries(g: Goldens, ref: Reference, vision: dict) -> dict:
    media_emb = [
        {"media": n, "embedding": g.tensor(f"embeddings.media.{n}", ref.media_embedding(v))}
        for n, v in vision.items()
    ]
    text_emb = [
        {
            "text": t,
            "normalized": pre_caption(t),
            "input_ids": ref.caption_ids(t),
            "embedding": g.tensor(f"embeddings.text.{i}", ref.text_embedding(t)),
        }
        for i, t in enumerate(MATCH_TEXTS + CLASSIFY_LABELS)
    ]
    match = [
        {"media": n, "texts": MATCH_TEXTS, "scores": [ref.itm_probability(vision[n], t) for t in MATCH_TEXTS]}
        for n in ("image_480x270", "frames_20")
    ]
    classify = [
        {
            "media": n,
            "labels": CLASSIFY_LABELS,
            "prompt_template": "{}",
            "scores": ref.classify(vision[n], CLASSIFY_LABELS),
        }
        for n in ("image_97x131", "frames_7")
    ]
    return {"embeddings": {"media": media_emb, "text": text_emb}, "match": match, "classify": classify}
