"""Accuracy of an int8 package against its fp32 source on the same inputs: the figures and the bar.

Cosines are of each input's whole output (all tokens flattened). Beam searches are compared token
for token and reported beside the fp32 search's smallest score margin: with random weights many
candidates are near-ties, which any numeric change (fp16, another CPU) may flip.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .collect import BATCH_CHECK, Outputs, PackageOutputs, collect
from .inputs import StudyInput, study_inputs
from .isa import machine_summary

log = logging.getLogger(__name__)

EMBEDDINGS = {
    "vision": "vision embeddings",
    "question_text": "text embeddings (question)",
    "fused": "fused embeddings (question x media)",
    "media_embedding": "retrieval embedding, media",
    "text_embedding": "retrieval embedding, text",
}
# The accuracy bar int8 packages are held to (tests/test_int8_accuracy.py on the demo package).
BAR = {"retrieval_min_cosine": 0.99, "embedding_min_cosine": 0.98, "top5_overlap_mean": 0.8}
NEAR_TIE = 0.05  # fp32 beam searches whose top beam leads the runner-up by less are near-ties


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def spread(values: list[float], inputs: list[StudyInput]) -> dict:
    worst = int(np.argmin(values))
    return {"mean": float(np.mean(values)), "min": float(values[worst]), "worst": inputs[worst].name}


def logits_figures(ref: list[np.ndarray], test: list[np.ndarray]) -> dict:
    diffs = [float(np.abs(r - t).max()) for r, t in zip(ref, test, strict=True)]
    top5 = [
        len(set(np.argsort(-r)[:5]) & set(np.argsort(-t)[:5])) / 5 for r, t in zip(ref, test, strict=True)
    ]
    top1 = [int(np.argmax(r) == np.argmax(t)) for r, t in zip(ref, test, strict=True)]
    return {
        "max_abs_diff": max(diffs),
        "mean_max_abs_diff": float(np.mean(diffs)),
        "fp32_logit_std": float(np.mean([r.std() for r in ref])),
        "top1_agreement": float(np.mean(top1)),
        "top5_overlap_mean": float(np.mean(top5)),
        "top5_overlap_min": float(min(top5)),
    }


def beam_figures(pairs: list[tuple[Outputs, Outputs]], which: Callable) -> dict:
    """Token-for-token agreement, beside two fp32 margins: the smallest gap between consecutive
    candidates at any step (near-ties anywhere), and the top beam's margin over the runner-up
    hypothesis, by which agreement is split."""
    same = [which(r).tokens == which(t).tokens for r, t in pairs]
    margins = [which(r).min_margin for r, _ in pairs]
    top = [which(r).final_margin for r, _ in pairs]
    robust = [s for s, m in zip(same, top, strict=True) if m >= NEAR_TIE]
    ties = [s for s, m in zip(same, top, strict=True) if m < NEAR_TIE]
    return {
        "identical": float(np.mean(same)),
        "identical_count": int(sum(same)),
        "count": len(same),
        "fp32_min_margin_median": float(np.median(margins)),
        "fp32_top_margin_median": float(np.median(top)),
        "robust_count": len(robust),
        "robust_identical": float(np.mean(robust)) if robust else None,
        "near_tie_count": len(ties),
        "near_tie_identical": float(np.mean(ties)) if ties else None,
    }


def retrieval_agreement(ref: list[Outputs], test: list[Outputs]) -> float:
    """Share of captions whose best-matching medium (by retrieval embeddings) is the same in both."""

    def best(items: list[Outputs]) -> np.ndarray:
        texts = np.stack([o.text_embedding for o in items])
        media = np.stack([o.media_embedding for o in items])
        return np.argmax(texts @ media.T, axis=1)

    return float(np.mean(best(ref) == best(test)))


def batch_cosine(inputs: list[StudyInput], outputs: PackageOutputs) -> float:
    """Smallest cosine between an image's vision output alone and inside a batch of BATCH_CHECK."""
    singles = [o.vision for item, o in zip(inputs, outputs.items, strict=True) if not item.is_video][
        :BATCH_CHECK
    ]
    return min(cosine(s, b) for s, b in zip(singles, outputs.batched_vision, strict=True))


def compare(inputs: list[StudyInput], ref: PackageOutputs, test: PackageOutputs) -> dict:
    pairs = list(zip(ref.items, test.items, strict=True))
    figures: dict = {
        "inputs": len(inputs),
        "videos": sum(item.is_video for item in inputs),
        "embeddings": {
            key: spread([cosine(getattr(r, key), getattr(t, key)) for r, t in pairs], inputs)
            for key in EMBEDDINGS
        },
        "retrieval_top1_agreement": retrieval_agreement(ref.items, test.items),
        "itm_max_abs_diff": max(abs(r.itm - t.itm) for r, t in pairs),
        "first_step": {
            "caption": logits_figures(
                [r.caption_logits for r, _ in pairs], [t.caption_logits for _, t in pairs]
            ),
            "vqa": logits_figures([r.vqa_logits for r, _ in pairs], [t.vqa_logits for _, t in pairs]),
        },
        "beams": None
        if ref.items[0].caption is None or test.items[0].caption is None
        else {
            "caption": beam_figures(pairs, lambda o: o.caption),
            "vqa": beam_figures(pairs, lambda o: o.vqa),
        },
        "batch_vs_single_min_cosine": {"fp32": batch_cosine(inputs, ref), "int8": batch_cosine(inputs, test)},
    }
    figures["bar"] = check_bar(figures)
    return figures


def check_bar(figures: dict) -> dict:
    emb = figures["embeddings"]
    retrieval = min(emb["media_embedding"]["min"], emb["text_embedding"]["min"])
    embedding = min(emb[k]["min"] for k in ("vision", "question_text", "fused"))
    top5 = min(figures["first_step"][t]["top5_overlap_mean"] for t in ("caption", "vqa"))
    checks = {
        "retrieval_min_cosine": retrieval >= BAR["retrieval_min_cosine"],
        "embedding_min_cosine": embedding >= BAR["embedding_min_cosine"],
        "top5_overlap_mean": top5 >= BAR["top5_overlap_mean"],
    }
    return {"passed": all(checks.values()), **checks}


def compare_packages(fp32: Path, int8: Path, count: int = 50, threads: int = 2, beams: bool = True) -> dict:
    """Both packages end to end on the first `count` study inputs, then `compare`."""
    inputs = study_inputs(count)
    outputs = {}
    for label, package in (("fp32", fp32), ("int8", int8)):
        start = time.perf_counter()
        outputs[label] = collect(package, inputs, threads, beams)
        log.info("%s: %d inputs through %s in %.1f s", label, count, package, time.perf_counter() - start)
    figures = compare(inputs, outputs["fp32"], outputs["int8"])
    figures["machine"] = machine_summary()
    return figures
