"""The eager PyTorch baseline: our PyTorch modules (the exporter's reference), served the official way.

Per request: the vision path, then for caption/VQA the official beam search (`decode_full`: the
whole prefix re-run every step, the memory tiled per beam, no KV cache); for VQA also the text
encoder and fusion. "Batched" runs B requests through each module together and steps their beam
searches in lockstep, one decoder call per step for every live item (as the official
`_fast_translate_batch` does with a batch). Inputs are tensors: media decoding is not timed.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ..beam_search import BeamSearch, DecodeParams
from ..checkpoint import load_checkpoint, load_state
from ..config import bundled_bert_config_path
from ..demo.build import DEMO_VISION, demo_state_dict
from ..nn.model import Mplug2
from ..pipelines import CAPTION_DECODING, VQA_DECODING, Memory, caption_memory, vqa_memory
from ..text import pre_question
from ..tokenizer import build_tokenizer

QUESTION = "what is the man doing in the video?"


def load_model(package: Path) -> Mplug2:
    """The PyTorch model with the package's own weights (from the checkpoint it was exported from)."""
    export = json.loads((package / "export.json").read_text())
    if export.get("checkpoint") is None:  # the demo: weights regenerated from its seed
        bert = bundled_bert_config_path("demo")
        ckpt = {"model": demo_state_dict(export["demo"]["seed"]), "config": {}}
        return load_state(ckpt, bert, DEMO_VISION.heads).model
    bert = Path("/tmp/mplug2-bench-bert.json")
    bert.write_text(json.dumps(export["bert_config"]))
    return load_checkpoint(
        Path(export["checkpoint"]), bert, export.get("vision_heads"), hash_file=False
    ).model


def decode_full_batch(model: Mplug2, memories: list[Memory], params: DecodeParams) -> list[list[int]]:
    """Beam searches of several items stepped together, the official way (full prefix, tiled memory)."""
    k = params.beam_size
    searches = [BeamSearch(params) for _ in memories]
    while not all(s.done for s in searches):
        live = [i for i, s in enumerate(searches) if not s.done]
        alive = torch.cat([searches[i].alive for i in live])
        states = torch.cat([memories[i].states.expand(k, -1, -1) for i in live])
        masks = torch.cat([memories[i].mask.expand(k, -1) for i in live])
        logits = model.text_decoder.full(alive, states, masks)
        for j, i in enumerate(live):
            searches[i].advance(logits[j * k : (j + 1) * k])
    return [s.result.tokens for s in searches]  # type: ignore[union-attr]


@dataclass
class Timing:
    task: str
    frames: int
    batch: int
    runs_s: list[float] = field(default_factory=list)
    vision_s: list[float] = field(default_factory=list)
    generated_tokens: float = 0.0

    @property
    def median_s(self) -> float:
        return statistics.median(self.runs_s)

    def summary(self) -> dict:
        out = asdict(self)
        out["median_s"] = self.median_s
        out["per_request_s"] = self.median_s / self.batch
        out["requests_per_s"] = self.batch / self.median_s
        out["vision_median_s"] = statistics.median(self.vision_s) if self.vision_s else None
        return out


class Baseline:
    def __init__(self, model: Mplug2, tokenizer, frames: int):
        self.model, self.tokenizer, self.frames = model, tokenizer, frames
        size = model.cfg.vision.image_size
        self.shape = (3, frames, size, size)

    def pixels(self, batch: int) -> torch.Tensor:
        return torch.randn(batch, *self.shape, generator=torch.Generator().manual_seed(0))

    def run(self, task: str, batch: int) -> tuple[float, float, float]:
        """One timed call of `task` on `batch` requests -> (total s, vision s, mean generated tokens)."""
        started = time.perf_counter()
        if task == "embed_text":
            ids = torch.tensor([self.tokenizer.encode("a man is playing a guitar").ids] * batch)
            self.model.text_head()(self.model.text(ids, torch.ones_like(ids))[:, 0])
            return time.perf_counter() - started, 0.0, 0.0
        vision = self.model.vision(self.pixels(batch))
        vision_s = time.perf_counter() - started
        if task == "embed_image":
            self.model.vision_head()(vision[:, 0])
            return time.perf_counter() - started, vision_s, 0.0
        if task == "caption":
            memories = [caption_memory(vision[i : i + 1]) for i in range(batch)]
            params = CAPTION_DECODING
        elif task == "vqa":
            ids = torch.tensor([self.tokenizer.encode(pre_question(QUESTION)).ids] * batch)
            mask = torch.ones_like(ids)
            fused = self.model.fuse(self.model.text(ids, mask), mask, vision)
            memories = [
                vqa_memory(vision[i : i + 1], fused[i : i + 1], mask[i : i + 1]) for i in range(batch)
            ]
            params = VQA_DECODING
        else:
            raise ValueError(f"unknown task {task}")
        tokens = decode_full_batch(self.model, memories, params)
        generated = statistics.mean(len(t) - 1 for t in tokens)
        return time.perf_counter() - started, vision_s, generated

    def time(self, task: str, batch: int, repeats: int, warmup: bool) -> Timing:
        timing = Timing(task, self.frames, batch)
        with torch.inference_mode():
            if warmup:
                self.run(task, batch)
            for _ in range(repeats):
                total, vision, generated = self.run(task, batch)
                timing.runs_s.append(total)
                timing.vision_s.append(vision)
                timing.generated_tokens = generated
        return timing


def run_reference(package: Path, plan: list[tuple[str, int, int]], repeats: int, threads: int) -> dict:
    """plan: (task, frames, batch) points. The first run of each point is an untimed warm-up
    unless a single run is over 20 s (the large video: one run only)."""
    torch.set_num_threads(threads)
    started = time.perf_counter()
    model = load_model(package).eval()
    tokenizer = build_tokenizer()
    load_s = time.perf_counter() - started
    results = []
    for task, frames, batch in plan:
        baseline = Baseline(model, tokenizer, frames)
        probe = baseline.time(task, batch, 1, warmup=False)
        if probe.median_s > 20.0 or repeats <= 1:
            results.append(probe.summary())
            continue
        results.append(baseline.time(task, batch, repeats, warmup=False).summary())
    return {"package": str(package), "threads": torch.get_num_threads(), "load_s": load_s, "points": results}
