"""Task pipelines on the PyTorch modules, as the official code composes them (the reference for goldens)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from tokenizers import Tokenizer

from .beam_search import BeamResult, BeamSearch, DecodeParams, beam_search_full
from .nn.decoder import TextDecoder
from .nn.model import Mplug2
from .text import answer_text, caption_text, pre_caption, pre_question

CAPTION_DECODING = DecodeParams(beam_size=5, min_length=4, max_length=20)
VQA_DECODING = DecodeParams(beam_size=5, min_length=1, max_length=10)
CAPTION_PROMPT = "a video of"


@dataclass
class Memory:
    states: torch.Tensor  # [1, S, D]
    mask: torch.Tensor  # [1, S] int64


def caption_memory(vision_embeds: torch.Tensor) -> Memory:
    return Memory(vision_embeds, torch.ones(vision_embeds.shape[:2], dtype=torch.int64))


def vqa_memory(vision_embeds: torch.Tensor, fused_text: torch.Tensor, question_mask: torch.Tensor) -> Memory:
    ones = torch.ones(vision_embeds.shape[:2], dtype=torch.int64)
    return Memory(torch.cat([vision_embeds, fused_text], 1), torch.cat([ones, question_mask], 1))


def decode_full(decoder: TextDecoder, memory: Memory, params: DecodeParams) -> BeamResult:
    """The official way: the whole prefix each step, memory tiled per beam."""
    k = params.beam_size
    states = memory.states.expand(k, -1, -1)
    mask = memory.mask.expand(k, -1)
    return beam_search_full(lambda alive: decoder.full(alive, states, mask), params)


def decode_cached(decoder: TextDecoder, memory: Memory, params: DecodeParams) -> BeamResult:
    """The KV-cached way: cross K/V once, one token per step, the self-attention cache follows the beams."""
    k, heads, hd = params.beam_size, decoder.cfg.num_attention_heads, decoder.cfg.head_dim
    cross = decoder.cross_kv(memory.states)
    empty = torch.zeros(1, k, heads, 0, hd)
    past = [(empty, empty) for _ in decoder.layers]
    search = BeamSearch(params)
    while not search.done:
        position = search.alive.shape[1] - 1
        past_mask = torch.ones(1, position, dtype=torch.int64)
        ids = search.alive[:, -1][None]
        logits, present = decoder.step(ids, torch.tensor([position]), past, past_mask, cross, memory.mask)
        origins = torch.tensor(search.advance(logits[0]))
        past = [
            (torch.cat([pk, nk], 3)[:, origins], torch.cat([pv, nv], 3)[:, origins])
            for (pk, pv), (nk, nv) in zip(past, present, strict=True)
        ]
    assert search.result is not None
    return search.result


@dataclass
class Reference:
    model: Mplug2
    tokenizer: Tokenizer

    def question_ids(self, question: str) -> list[int]:
        return self.tokenizer.encode(pre_question(question)).ids

    def caption_ids(self, text: str) -> list[int]:
        return self.tokenizer.encode(pre_caption(text)).ids

    def text_embeds(self, ids: list[int]) -> torch.Tensor:
        t = torch.tensor([ids])
        return self.model.text(t, torch.ones_like(t))

    def caption(
        self,
        vision_embeds: torch.Tensor,
        params: DecodeParams = CAPTION_DECODING,
        prompt: str | None = CAPTION_PROMPT,
    ) -> tuple[BeamResult, str]:
        result = decode_full(self.model.text_decoder, caption_memory(vision_embeds), params)
        return result, caption_text(self.tokenizer, result.tokens, prompt)

    def vqa(
        self, vision_embeds: torch.Tensor, question: str, params: DecodeParams = VQA_DECODING
    ) -> tuple[BeamResult, str]:
        ids = self.question_ids(question)
        text = self.text_embeds(ids)
        mask = torch.ones(1, len(ids), dtype=torch.int64)
        fused = self.model.fuse(text, mask, vision_embeds)
        result = decode_full(self.model.text_decoder, vqa_memory(vision_embeds, fused, mask), params)
        return result, answer_text(self.tokenizer, result.tokens)

    def itm_probability(self, vision_embeds: torch.Tensor, text: str) -> float:
        ids = self.caption_ids(text)
        mask = torch.ones(1, len(ids), dtype=torch.int64)
        fused = self.model.fuse(self.text_embeds(ids), mask, vision_embeds)
        return float(torch.softmax(self.model.itm_head(fused[:, 0]), dim=-1)[0, 1])

    def media_embedding(self, vision_embeds: torch.Tensor) -> torch.Tensor:
        return self.model.vision_head()(vision_embeds[:, 0])[0]

    def text_embedding(self, text: str) -> torch.Tensor:
        return self.model.text_head()(self.text_embeds(self.caption_ids(text))[:, 0])[0]

    def classify(self, vision_embeds: torch.Tensor, labels: list[str], template: str = "{}") -> list[float]:
        """softmax over labels of cos(media, label) / temp."""
        media = self.media_embedding(vision_embeds)
        texts = torch.stack([self.text_embedding(template.format(label)) for label in labels])
        return torch.softmax(texts @ media / self.model.temp, dim=0).tolist()
