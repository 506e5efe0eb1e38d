"""Every task's intermediate and final outputs of one package on the study inputs, in ONNX Runtime.

Each input goes through the package end to end, as the server composes the graphs: vision, the
question's text encoding and fusion, the caption text's embedding, ITM, the first decoder step
(caption and VQA memories) and both beam searches. An int8 package is thus measured with its own
int8 upstream outputs, not fp32 ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

from ..beam_search import BeamResult, DecodeParams
from ..onnx_runner import PackageRunner
from ..pipelines import CAPTION_DECODING, VQA_DECODING
from ..preprocess import frame_indices, pixel_values
from ..text import pre_caption, pre_question
from .inputs import StudyInput

log = logging.getLogger(__name__)

BATCH_CHECK = 8  # images run once more as one batch, to see what batching does to their outputs


@dataclass
class Outputs:
    vision: np.ndarray  # [N, D]
    media_embedding: np.ndarray  # [E]
    question_text: np.ndarray  # [L, D]
    fused: np.ndarray  # [L, D]
    text_embedding: np.ndarray  # [E], of the caption text
    itm: float  # match probability of the medium and its caption text
    caption_logits: np.ndarray  # [V], first decoder step on the caption memory
    vqa_logits: np.ndarray  # [V], first decoder step on the VQA memory
    caption: BeamResult | None  # None when beam searches were not asked for
    vqa: BeamResult | None


@dataclass
class PackageOutputs:
    items: list[Outputs]
    batched_vision: list[np.ndarray]  # the first images' vision outputs, run as one batch


class Pipeline:
    def __init__(self, package: Path, threads: int, beams: bool = True):
        self.beams = beams
        self.runner = PackageRunner(package, threads)
        self.tokenizer = Tokenizer.from_file(str(package / "tokenizer.json"))
        pre = self.runner.manifest["preprocess"]
        self.size, self.num_frames = pre["image_size"], pre["num_frames"]

    def pixels(self, item: StudyInput) -> np.ndarray:
        frames = item.frames
        if item.is_video:
            frames = frames[frame_indices(self.num_frames, len(frames))]
        _, normalized = pixel_values(frames, self.size)
        return normalized[None].numpy()

    def vision(self, pixels: np.ndarray) -> np.ndarray:
        return self.runner.run("vision", {"pixel_values": pixels})[0]

    def text(self, text: str) -> np.ndarray:
        ids = np.array([self.tokenizer.encode(text).ids], np.int64)
        return self.runner.run("text_encoder", {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]

    def fuse(self, text: np.ndarray, vision: np.ndarray) -> np.ndarray:
        feeds = {
            "text_embeds": text,
            "attention_mask": np.ones(text.shape[:2], np.int64),
            "vision_embeds": vision,
            "vision_mask": np.ones(vision.shape[:2], np.int64),
        }
        return self.runner.run("fusion", feeds)[0]

    def first_logits(self, memory: np.ndarray) -> np.ndarray:
        """Logits of the first step from [BOS] (one beam slot, empty past)."""
        text = self.runner.manifest["config"]["text"]
        heads = text["num_attention_heads"]
        hd = text["hidden_size"] // heads
        empty = np.zeros((1, 1, heads, 0, hd), np.float32)
        feeds = {
            "input_ids": np.array([[CAPTION_DECODING.bos]], np.int64),
            "position_ids": np.array([0], np.int64),
            "past_mask": np.ones((1, 0), np.int64),
            "memory_mask": np.ones(memory.shape[:2], np.int64),
            **self.runner.cross_kv(memory),
        }
        for i in range(self.runner.decoder_layers):
            feeds[f"past_key_{i}"] = feeds[f"past_value_{i}"] = empty
        return self.runner.run("decoder_step", feeds)[0][0, 0]

    def outputs(self, item: StudyInput) -> Outputs:
        vision = self.vision(self.pixels(item))
        question = self.text(pre_question(item.question))
        fused = self.fuse(question, vision)
        caption_text = self.text(pre_caption(item.caption))
        caption_fused = self.fuse(caption_text, vision)
        itm = self.runner.run("heads_itm", {"fused_cls": caption_fused[:, 0]})[0][0]
        vqa_memory = np.concatenate([vision, fused], axis=1)
        caption = vqa = None
        if self.beams:
            with torch.no_grad():
                caption = self.decode(vision, CAPTION_DECODING)
                vqa = self.decode(vqa_memory, VQA_DECODING)
        return Outputs(
            vision=vision[0],
            media_embedding=self.runner.run("heads_vision", {"vision_cls": vision[:, 0]})[0][0],
            question_text=question[0],
            fused=fused[0],
            text_embedding=self.runner.run("heads_text", {"text_cls": caption_text[:, 0]})[0][0],
            itm=float(np.exp(itm[1]) / np.exp(itm).sum()),
            caption_logits=self.first_logits(vision),
            vqa_logits=self.first_logits(vqa_memory),
            caption=caption,
            vqa=vqa,
        )

    def decode(self, memory: np.ndarray, params: DecodeParams) -> BeamResult:
        return self.runner.decode_cached(memory, np.ones(memory.shape[:2], np.int64), params)

    def batched_vision(self, items: list[StudyInput]) -> list[np.ndarray]:
        images = [item for item in items if not item.is_video][:BATCH_CHECK]
        batch = self.vision(np.concatenate([self.pixels(item) for item in images]))
        return list(batch)


def collect(package: Path, inputs: list[StudyInput], threads: int = 2, beams: bool = True) -> PackageOutputs:
    pipeline = Pipeline(package, threads, beams)
    items = []
    for i, item in enumerate(inputs):
        items.append(pipeline.outputs(item))
        if (i + 1) % 10 == 0:
            log.info("%s: %d of %d inputs", package.name, i + 1, len(inputs))
    return PackageOutputs(items, pipeline.batched_vision(inputs))
