"""Reference beam search with the official semantics (`TextGenerator._fast_translate_batch`, note §4).

Per item: beams start as `[BOS]` with scores `[0, -inf, ...]`; each step takes log(softmax(logits)),
masks EOS below `min_length`, adds the running scores, divides by the GNMT length penalty
((5 + step + 1) / 6) ** alpha, and keeps the top `beam_size` of beam × vocab. Beams that emit EOS are
saved with their normalized score but stay alive; the item ends when beam 0 emits EOS (or at the last
step), and then every current beam joins the pool. The answer is the pooled hypothesis with the
highest saved score (first saved wins ties, as Python's stable sort does).

The state machine is driven one step at a time, so the full-prefix decoder (as officially) and the
KV-cached decoder (which needs each step's beam origins to reorder its cache) can both drive it.
It also records per-step score margins, which say how robust the chosen tokens are to tiny
numeric differences between runtimes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class DecodeParams:
    beam_size: int
    min_length: int
    max_length: int
    length_penalty: float = 0.6
    bos: int = 101
    eos: int = 102


@dataclass
class StepTrace:
    tokens: list[int]  # the token chosen by each beam slot
    origins: list[int]  # the beam each slot extends
    scores: list[float]  # normalized scores of the kept candidates
    margin: float  # min gap between consecutive candidates among the top beam_size + 1


@dataclass
class BeamResult:
    tokens: list[int]  # best hypothesis, with the leading BOS (and EOS when it ended with one)
    score: float
    final_margin: float  # best minus second-best pooled score (inf when the pool has one entry)
    steps: list[StepTrace] = field(default_factory=list)
    logit_scale: float = 0.0  # largest |logit| seen: what the scores' rounding follows (tolerance.py)

    @property
    def min_margin(self) -> float:
        return min([s.margin for s in self.steps] + [self.final_margin])

    @property
    def score_scale(self) -> float:
        """The largest magnitude among the kept scores of every step."""
        return max(abs(x) for s in self.steps for x in s.scores)


class BeamSearch:
    def __init__(self, params: DecodeParams):
        if params.beam_size < 1 or params.max_length < 1:
            raise ValueError(f"beam_size and max_length must be >= 1, got {params}")
        self.p = params
        k = params.beam_size
        self.alive = torch.full((k, 1), params.bos, dtype=torch.long)
        self.log_probs = torch.tensor([0.0] + [float("-inf")] * (k - 1))
        self.pool: list[tuple[float, list[int]]] = []
        self.step_index = 0
        self.result: BeamResult | None = None
        self.trace: list[StepTrace] = []
        self.logit_scale = 0.0

    @property
    def done(self) -> bool:
        return self.result is not None

    def advance(self, logits: torch.Tensor) -> list[int]:
        """logits [beam_size, vocab] of each alive beam's last position -> origin beam of each new slot."""
        p, k = self.p, self.p.beam_size
        vocab = logits.shape[-1]
        self.logit_scale = max(self.logit_scale, float(logits.abs().max()))
        log_probs = torch.log(torch.softmax(logits.to(torch.float32), dim=-1))
        if self.step_index < p.min_length:
            log_probs[:, p.eos] = -1e20
        penalty = ((5.0 + (self.step_index + 1)) / 6.0) ** p.length_penalty
        log_probs = log_probs + self.log_probs.unsqueeze(1)
        scores = (log_probs / penalty).reshape(-1, k * vocab)
        top_scores, top_ids = scores.topk(k, dim=-1)
        self.log_probs = (top_scores * penalty)[0]
        origins = top_ids[0] // vocab
        tokens = top_ids[0].fmod(vocab)
        self.alive = torch.cat([self.alive.index_select(0, origins), tokens[:, None]], dim=-1)
        self._record(scores[0], top_scores[0], origins, tokens)
        self._collect(top_scores[0], tokens)
        self.step_index += 1
        return origins.tolist()

    def _record(
        self, scores: torch.Tensor, kept: torch.Tensor, origins: torch.Tensor, tokens: torch.Tensor
    ) -> None:
        extended = scores.topk(min(self.p.beam_size + 1, scores.numel())).values
        finite = extended[torch.isfinite(extended) & (extended > -1e19)]
        gaps = finite[:-1] - finite[1:]
        margin = float(gaps.min()) if gaps.numel() else float("inf")
        self.trace.append(StepTrace(tokens.tolist(), origins.tolist(), kept.tolist(), margin))

    def _collect(self, kept: torch.Tensor, tokens: torch.Tensor) -> None:
        finished = tokens.eq(self.p.eos)
        if self.step_index + 1 == self.p.max_length or bool(finished[0]):
            finished[:] = True
        for j in finished.nonzero().view(-1).tolist():
            self.pool.append((float(kept[j]), self.alive[j].tolist()))
        if bool(finished[0]):
            ranked = sorted(self.pool, key=lambda h: h[0], reverse=True)
            second = ranked[1][0] if len(ranked) > 1 else float("-inf")
            margin = ranked[0][0] - second
            self.result = BeamResult(ranked[0][1], ranked[0][0], margin, self.trace, self.logit_scale)


def beam_search_full(next_logits: Callable[[torch.Tensor], torch.Tensor], params: DecodeParams) -> BeamResult:
    """Drives the search with a full-prefix decoder: alive [beam, t] ids -> logits [beam, vocab]."""
    search = BeamSearch(params)
    while not search.done:
        search.advance(next_logits(search.alive))
    assert search.result is not None
    return search.result
