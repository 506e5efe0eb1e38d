"""A package's goldens replayed through its ONNX graphs in ONNX Runtime (Python).

`onnx_pairs` asserts identical token ids and strings for every beam search and yields every float
output next to its PyTorch golden as a `drift.Pair`, judged at the same scales as `golden_pairs`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ..beam_search import BeamResult, DecodeParams
from ..onnx_runner import PackageRunner
from ..text import answer_text, caption_text
from ..tokenizer import build_tokenizer
from ..tolerance import beam_scale, scale_of
from .drift import Pair, goldens_of, logit_scale, search_scale

OPTIMIZATION_LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


def onnx_runner(package: Path, threads: int, level: str) -> PackageRunner:
    """A runner with a given intra-op thread count and graph optimization level (other kernels)."""
    runner = PackageRunner(package, threads)
    runner.options.graph_optimization_level = OPTIMIZATION_LEVELS[level]
    return runner


def ones(x: np.ndarray) -> np.ndarray:
    return np.ones(x.shape[:2], np.int64)


def tensor_pair(kind: str, where: str, ours: np.ndarray, golden: np.ndarray) -> Pair:
    return Pair(kind, where, ours, golden, scale_of(golden))


def search_pairs(where: str, ours: BeamResult, golden: dict, logits: float) -> Iterator[Pair]:
    """Scores and margins of a search whose tokens equal the golden's, step by step."""
    assert [s.tokens for s in ours.steps] == [s["tokens"] for s in golden["steps"]], where
    for j, (step, want) in enumerate(zip(ours.steps, golden["steps"], strict=True)):
        scores = scale_of(want["scores"])
        yield Pair(
            "beam scores", f"{where}/steps[{j}]", step.scores, want["scores"], beam_scale(logits, scores)
        )
        yield from margin_pair(f"{where}/steps[{j}]/margin", step.margin, want["margin"], logits, scores)
    scores = search_scale(golden)
    yield Pair("beam scores", f"{where}/score", ours.score, golden["score"], beam_scale(logits, scores))
    yield from margin_pair(f"{where}/final_margin", ours.final_margin, golden["final_margin"], logits, scores)


def margin_pair(
    where: str, ours: float, golden: float | None, logits: float, scores: float
) -> Iterator[Pair]:
    if golden is None:  # nothing to compare against: infinite
        assert ours == float("inf"), where
    else:
        yield Pair("beam margins", where, ours, golden, beam_scale(logits, scores, golden))


def onnx_pairs(package: Path, runner: PackageRunner | None = None) -> Iterator[Pair]:
    index, t = goldens_of(package)
    logits = logit_scale(index, t)
    runner = runner or PackageRunner(package)
    tok = build_tokenizer()
    vision = {}
    for media in index["media"]:
        out = runner.run("vision", {"pixel_values": t[media["pixel_values"]][None]})[0]
        vision[media["name"]] = out
        yield tensor_pair("vision embeds", media["name"], out[0], t[media["vision_embeds"]])
    text_embeds = {}
    for i, text in enumerate(index["texts"]):
        ids = np.array([text["question"]["input_ids"]])
        text_embeds[i] = runner.run("text_encoder", {"input_ids": ids, "attention_mask": ones(ids)})[0]
        yield tensor_pair("text embeds", f"texts[{i}]", text_embeds[i][0], t[text["text_embeds"]])

    def fuse(media: str, text: int) -> np.ndarray:
        v, te = vision[media], text_embeds[text]
        feeds = {"text_embeds": te, "attention_mask": ones(te), "vision_embeds": v, "vision_mask": ones(v)}
        return runner.run("fusion", feeds)[0]

    for k, f in enumerate(index["fusion"]):
        yield tensor_pair("fused text", f"fusion[{k}]", fuse(f["media"], f["text"])[0], t[f["fused_text"]])
    for k, step in enumerate(index["decoder_first_step"]):
        v = vision[step["media"]]
        memory = v if step["task"] == "caption" else np.concatenate([v, fuse(step["media"], step["text"])], 1)
        feeds = {
            "input_ids": np.array([step["input_ids"]]),
            "memory": memory,
            "memory_mask": np.array([step["memory_mask"]]),
        }
        out = runner.run("decoder_full", feeds)[0]
        yield tensor_pair("logits", f"decoder_first_step[{k}]", out[0], t[step["logits"]])
    for k, c in enumerate(index["captions"]):
        v = vision[c["media"]]
        result = runner.decode_cached(v, ones(v), DecodeParams(**c["params"]))
        assert result.tokens == c["tokens"], f"captions[{k}]"
        assert caption_text(tok, result.tokens, c["prompt"]) == c["text"], f"captions[{k}]"
        yield from search_pairs(f"/captions[{k}]", result, c, logits)
    for k, q in enumerate(index["vqa"]):
        memory = np.concatenate([vision[q["media"]], fuse(q["media"], q["text"])], 1)
        result = runner.decode_cached(memory, ones(memory), DecodeParams(**q["params"]))
        assert result.tokens == q["tokens"], f"vqa[{k}]"
        assert answer_text(tok, result.tokens) == q["answer"], f"vqa[{k}]"
        yield from search_pairs(f"/vqa[{k}]", result, q, logits)
    for e in index["embeddings"]["media"]:
        feat = runner.run("heads_vision", {"vision_cls": vision[e["media"]][:, 0]})[0]
        yield tensor_pair("ITC embeddings", e["embedding"], feat[0], t[e["embedding"]])
    for e in index["embeddings"]["text"]:
        ids = np.array([e["input_ids"]])
        embeds = runner.run("text_encoder", {"input_ids": ids, "attention_mask": ones(ids)})[0]
        feat = runner.run("heads_text", {"text_cls": embeds[:, 0]})[0]
        yield tensor_pair("ITC embeddings", e["embedding"], feat[0], t[e["embedding"]])
