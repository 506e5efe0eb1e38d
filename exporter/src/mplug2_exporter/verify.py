"""`verify DIR`: the package's ONNX graphs in ONNX Runtime against the PyTorch modules, side by side.

Every graph runs on seeded random inputs of the requested batch and frame counts (text right-padded,
past K/V right-padded and masked, first decoder step with an empty past); the max abs difference per
graph is printed with the smallest cosine between an item's ONNX and PyTorch outputs, and the exit code
is non-zero when any exceeds the tolerance. An int8 package is held to the cosine instead (its
dynamic quantization moves values by more than any useful absolute bound, but keeps directions),
against the same fp32 PyTorch modules. The PyTorch weights come from the checkpoint recorded in
`export.json` (the demo regenerates its own; an int8 package made by `quantize` keeps its source's).
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .beam_search import DecodeParams
from .checkpoint import LoadedCheckpoint, load_checkpoint, load_state
from .errors import PackageError
from .export.package import PROVENANCE_FILE
from .nn.model import Mplug2
from .onnx_runner import PackageRunner
from .pipelines import Memory, decode_full

log = logging.getLogger(__name__)

DEFAULT_TOLERANCE = {"fp32": 1e-4, "fp16": 5e-2}
DEFAULT_MIN_COSINE = {"int8": 0.99}


@dataclass
class Case:
    label: str
    feeds: dict[str, np.ndarray]
    expected: list[torch.Tensor]


def load_reference(package: Path, checkpoint: Path | None) -> LoadedCheckpoint:
    prov_path = package / PROVENANCE_FILE
    if not prov_path.is_file():
        raise PackageError(f"{prov_path} is missing: cannot tell which weights made this package")
    prov = json.loads(prov_path.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        bert = Path(tmp) / "bert_config.json"
        bert.write_text(json.dumps(prov["bert_config"]))
        if checkpoint is None and prov.get("demo"):
            from .demo.build import demo_state_dict
            from .synthetic.random_checkpoint import InitScales

            demo = prov["demo"]
            state = demo_state_dict(demo["seed"], InitScales(**demo["scales"]))
            return load_state({"model": state}, bert, prov["vision_heads"])
        checkpoint = checkpoint or (Path(prov["checkpoint"]) if prov.get("checkpoint") else None)
        if checkpoint is None or not checkpoint.is_file():
            raise PackageError(f"source checkpoint {checkpoint} not found; pass --checkpoint")
        return load_checkpoint(checkpoint, bert, prov["vision_heads"], hash_file=False)


def padded_mask(batch: int, length: int) -> torch.Tensor:
    """Right padding: item i keeps length - i positions (at least 1)."""
    lengths = torch.tensor([max(1, length - i) for i in range(batch)])
    return (torch.arange(length)[None] < lengths[:, None]).to(torch.int64)


def np_feeds(**tensors: torch.Tensor) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in tensors.items()}


def graph_cases(m: Mplug2, graph: str, frames: list[int], batch: int, gen: torch.Generator) -> Iterator[Case]:
    cfg = m.cfg
    d, s = cfg.text.hidden_size, cfg.vision.image_size
    randn = lambda *shape: torch.randn(*shape, generator=gen)  # noqa: E731
    if graph == "vision":
        for t in frames:
            x = randn(batch, 3, t, s, s)
            yield Case(f"B={batch} T={t}", np_feeds(pixel_values=x), [m.vision(x)])
    elif graph == "text_encoder":
        for length in (1, 9):
            mask = padded_mask(batch, length)
            ids = torch.randint(1000, 5000, (batch, length), generator=gen) * mask
            yield Case(
                f"B={batch} L={length} padded",
                np_feeds(input_ids=ids, attention_mask=mask),
                [m.text(ids, mask)],
            )
    elif graph == "fusion":
        n = 1 + cfg.vision.patches_per_frame * frames[0]
        text, vision = randn(batch, 7, d), randn(batch, n, d)
        mask, vmask = padded_mask(batch, 7), padded_mask(batch, n)
        yield Case(
            f"B={batch} L=7 N={n} padded",
            np_feeds(text_embeds=text, attention_mask=mask, vision_embeds=vision, vision_mask=vmask),
            [m.fuse(text, mask, vision, vmask)],
        )
    elif graph == "decoder_cross_kv":
        memory = randn(batch, 13, d)
        yield Case(
            f"B={batch} S=13",
            np_feeds(memory=memory),
            [t for kv in m.text_decoder.cross_kv(memory) for t in kv],
        )
    elif graph == "decoder_step":
        yield from step_cases(m, batch, gen)
    elif graph == "decoder_full":
        memory, mask = randn(batch, 13, d), padded_mask(batch, 13)
        for t in (1, 5):
            ids = torch.randint(1000, 5000, (batch, t), generator=gen)
            yield Case(
                f"B={batch} t={t}",
                np_feeds(input_ids=ids, memory=memory, memory_mask=mask),
                [m.text_decoder.full(ids, memory, mask)],
            )
    elif graph.startswith("heads_"):
        module = {"heads_vision": m.vision_head(), "heads_text": m.text_head(), "heads_itm": m.itm_head}[
            graph
        ]
        name = {"heads_vision": "vision_cls", "heads_text": "text_cls", "heads_itm": "fused_cls"}[graph]
        x = randn(batch, d)
        yield Case(f"B={batch}", {name: x.numpy()}, [module(x)])


def step_cases(m: Mplug2, batch: int, gen: torch.Generator) -> Iterator[Case]:
    dec, cfg = m.text_decoder, m.cfg.text
    heads, hd, beams = cfg.num_attention_heads, cfg.head_dim, 3
    memory, mmask = torch.randn(batch, 13, cfg.hidden_size, generator=gen), padded_mask(batch, 13)
    cross = dec.cross_kv(memory)
    for p in (0, 4):
        past = [
            (
                torch.randn(batch, beams, heads, p, hd, generator=gen),
                torch.randn(batch, beams, heads, p, hd, generator=gen),
            )
            for _ in cross
        ]
        pmask = padded_mask(batch, p) if p else torch.ones(batch, 0, dtype=torch.int64)
        ids = torch.randint(1000, 5000, (batch, beams), generator=gen)
        pos = pmask.sum(1)
        logits, present = dec.step(ids, pos, past, pmask, cross, mmask)
        feeds = np_feeds(input_ids=ids, position_ids=pos, past_mask=pmask, memory_mask=mmask)
        for i, ((pk, pv), (ck, cv)) in enumerate(zip(past, cross, strict=True)):
            feeds.update(
                np_feeds(
                    **{
                        f"past_key_{i}": pk,
                        f"past_value_{i}": pv,
                        f"cross_key_{i}": ck,
                        f"cross_value_{i}": cv,
                    }
                )
            )
        yield Case(
            f"B={batch} K={beams} P={p}" + (" padded" if p else ""),
            feeds,
            [logits, *(t for kv in present for t in kv)],
        )


def min_cosine(got: np.ndarray, want: np.ndarray) -> float:
    """Smallest cosine over the batch items (each item's output flattened); 1 where both are zero."""
    g = got.reshape(got.shape[0], -1).astype(np.float64)
    w = want.reshape(want.shape[0], -1).astype(np.float64)
    norms = np.linalg.norm(g, axis=1) * np.linalg.norm(w, axis=1)
    dots = (g * w).sum(axis=1)
    cosines = np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 1.0)
    return float(cosines.min()) if cosines.size else 1.0


@dataclass
class GraphCheck:
    max_diff: float
    min_cosine: float
    labels: list[str]


def check_graph(runner: PackageRunner, graph: str, cases: Callable[[], Iterator[Case]]) -> GraphCheck:
    worst, cosine, labels = 0.0, 1.0, []
    for case in cases():
        outputs = runner.run(graph, case.feeds)
        pairs = [(o, e.numpy()) for o, e in zip(outputs, case.expected, strict=True)]
        diff = max(float(np.abs(o - e).max()) for o, e in pairs)
        cos = min(min_cosine(o, e) for o, e in pairs)
        worst, cosine = max(worst, diff), min(cosine, cos)
        labels.append(f"{case.label}: {diff:.2e}, cos {cos:.5f}")
    runner.release(graph)
    return GraphCheck(worst, cosine, labels)


def beam_check(m: Mplug2, runner: PackageRunner, frames: int) -> str:
    """The KV-cached ONNX decoder vs the full-prefix PyTorch decoder on one caption memory."""
    gen = torch.Generator().manual_seed(5)
    s = m.cfg.vision.image_size
    vision = m.vision(torch.randn(1, 3, frames, s, s, generator=gen))
    mask = torch.ones(vision.shape[:2], dtype=torch.int64)
    params = DecodeParams(beam_size=5, min_length=4, max_length=20)
    full = decode_full(m.text_decoder, Memory(vision, mask), params)
    cached = runner.decode_cached(vision.numpy(), mask.numpy(), params)
    if full.tokens == cached.tokens:
        verdict = "same tokens"
    else:
        first = next(
            (i for i, (a, b) in enumerate(zip(full.tokens, cached.tokens, strict=False)) if a != b),
            min(len(full.tokens), len(cached.tokens)),
        )
        verdict = f"DIFFERENT tokens from position {first} (ONNX {cached.tokens})"
    return (
        f"beam search, ONNX cached vs PyTorch full prefix: {verdict}, PyTorch {full.tokens}, "
        f"smallest score margin {full.min_margin:.2e}"
    )


def verify_package(
    package: Path,
    checkpoint: Path | None,
    frames: list[int],
    batch: int,
    tolerance: float | None,
    min_cos: float | None = None,
) -> bool:
    runner = PackageRunner(package)
    dtype = runner.manifest["model"]["dtype"]
    tol = tolerance if tolerance is not None else DEFAULT_TOLERANCE.get(dtype)
    min_cos = min_cos if min_cos is not None else DEFAULT_MIN_COSINE.get(dtype)
    bounds = ", ".join(
        text
        for bound, text in ((tol, f"tolerance {tol}"), (min_cos, f"cosine >= {min_cos}"))
        if bound is not None
    )
    model = load_reference(package, checkpoint).model
    ok = True
    with torch.no_grad():
        for graph in runner.graphs:
            gen = torch.Generator().manual_seed(0)
            check = check_graph(
                runner, graph, lambda g=graph, gen=gen: graph_cases(model, g, frames, batch, gen)
            )
            within = tol is None or check.max_diff <= tol
            passed = within and (min_cos is None or check.min_cosine >= min_cos)
            ok &= passed
            print(
                f"{graph:18s} max abs diff {check.max_diff:.3e}  min cosine {check.min_cosine:.6f}  "
                f"[{'ok' if passed else 'FAIL'}, {bounds}]  ({'; '.join(check.labels)})"
            )
        if {"decoder_cross_kv", "decoder_step", "vision"} <= set(runner.graphs):
            print(beam_check(model, runner, frames[0]))
    print(f"verify ({dtype} against fp32 PyTorch): " + ("all graphs within bounds" if ok else "FAILED"))
    return ok
