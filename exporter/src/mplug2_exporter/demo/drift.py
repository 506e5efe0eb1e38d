"""Two sets of demo goldens side by side: every float with the scale it is judged at (tolerance.py).

`golden_pairs` asserts that structure, token ids, strings and uint8 tensors are identical and yields
each float quantity as a `Pair`; the tests check the pairs against the tolerance, and

    python -m mplug2_exporter.demo.drift COMMITTED_PACKAGE [FRESH_PACKAGE...] [--onnx THREADS:LEVEL...]

prints the largest absolute and scale-relative difference per kind of quantity, for regenerated
goldens and for ONNX Runtime replaying the committed ones (`replay.py`): the measurements behind
docs/tolerances.md (scripts/measure-tolerances.sh).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from ..tolerance import beam_scale, scale_of

# Tensor name suffix -> kind of quantity. Compared exactly instead: uint8 tensors, and pixel values
# (elementwise float32 arithmetic on bytes, correctly rounded on every IEEE machine: no sums).
EXACT_TENSORS = ("pixel_values",)
TENSOR_KINDS = {
    "vision_embeds": "vision embeds",
    "text_embeds": "text embeds",
    "fused_text": "fused text",
    "logits": "logits",
}


@dataclass
class Pair:
    kind: str
    where: str
    actual: np.ndarray
    expected: np.ndarray
    scale: float

    def __post_init__(self):
        self.actual = np.asarray(self.actual, dtype=np.float64)
        self.expected = np.asarray(self.expected, dtype=np.float64)

    @property
    def diff(self) -> float:
        return float(np.abs(self.actual - self.expected).max()) if self.expected.size else 0.0


def goldens_of(package: Path) -> tuple[dict, dict[str, np.ndarray]]:
    root = package / "goldens"
    return json.loads((root / "goldens.json").read_text()), load_file(str(root / "tensors.safetensors"))


def golden_pairs(actual: Path, expected: Path) -> Iterator[Pair]:
    """Every float of two packages' goldens; asserts that everything else is identical."""
    index_a, tensors_a = goldens_of(actual)
    index_b, tensors_b = goldens_of(expected)
    logits = logit_scale(index_b, tensors_b)
    yield from json_pairs(index_a, index_b, "", searches_scale(index_b), logits)
    assert tensors_a.keys() == tensors_b.keys()
    for name, b in tensors_b.items():
        a = tensors_a[name]
        assert a.shape == b.shape and a.dtype == b.dtype, name
        if b.dtype == np.uint8 or name.endswith(EXACT_TENSORS):
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:
            yield Pair(tensor_kind(name), name, a, b, scale_of(b))


def tensor_kind(name: str) -> str:
    if name.startswith("embeddings."):
        return "ITC embeddings"
    return TENSOR_KINDS[name.rsplit(".", 1)[-1]]


def logit_scale(index: dict, tensors: dict[str, np.ndarray]) -> float:
    """The decoder's logits' magnitude, from the goldens' first-step logits: the scale of beam scores."""
    return max(scale_of(tensors[step["logits"]]) for step in index["decoder_first_step"])


def search_scale(search: dict) -> float:
    """The largest magnitude among a beam search's scores, over every step (and its final score)."""
    return scale_of([search["score"], *(s for step in search["steps"] for s in step["scores"])])


def searches_scale(index: dict) -> float:
    return max(search_scale(s) for s in index["captions"] + index["vqa"])


def json_pairs(a, b, where: str, scale: float, logits: float) -> Iterator[Pair]:
    """Floats take the scale of the innermost beam search, step or list of floats holding them;
    beam scores and margins at least the logits' (`beam_scale`)."""
    if isinstance(b, dict):
        assert isinstance(a, dict) and a.keys() == b.keys(), where
        if "steps" in b:
            scale = search_scale(b)
        elif "margin" in b:
            scale = scale_of(b["scores"])
        for key in b:
            yield from json_pairs(a[key], b[key], f"{where}/{key}", scale, logits)
    elif isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b), where
        if any(isinstance(x, float) for x in b):
            scale = scale_of(b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from json_pairs(x, y, f"{where}[{i}]", scale, logits)
    elif isinstance(b, float):
        assert isinstance(a, float), f"{where}: {a!r} vs {b!r}"
        kind = json_kind(where)
        if kind == "beam margins":
            scale = beam_scale(logits, scale, b)
        elif kind == "beam scores":
            scale = beam_scale(logits, scale)
        yield Pair(kind, where, a, b, scale)
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def json_kind(where: str) -> str:
    key = where.rsplit("/", 1)[-1].split("[", 1)[0]
    if "margin" in key:
        return "beam margins"
    if where.startswith(("/captions", "/vqa")) and key in ("score", "scores"):
        return "beam scores"
    if where.startswith(("/match", "/classify")):
        return "match/classify probabilities"
    return key


def worst_by_kind(pairs: Iterable[Pair]) -> dict[str, tuple[float, float]]:
    """kind -> (max |diff|, max |diff| / scale)."""
    worst: dict[str, tuple[float, float]] = {}
    for p in pairs:
        diff = p.diff
        rel = diff / p.scale if p.scale else (0.0 if diff == 0 else float("inf"))
        old = worst.get(p.kind, (0.0, 0.0))
        worst[p.kind] = (max(old[0], diff), max(old[1], rel))
    return worst


def report(title: str, pairs: Iterable[Pair]) -> None:
    print(f"## {title}")
    for kind, (diff, rel) in sorted(worst_by_kind(pairs).items()):
        print(f"{kind:30s} max abs {diff:.2e}  max rel to scale {rel:.2e}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m mplug2_exporter.demo.drift", description=__doc__)
    parser.add_argument("committed", type=Path, help="the package whose goldens are the reference")
    parser.add_argument("fresh", type=Path, nargs="*", help="packages whose goldens are compared with it")
    parser.add_argument(
        "--onnx",
        action="append",
        default=[],
        metavar="THREADS:LEVEL",
        help="also replay the committed goldens in ONNX Runtime, e.g. 1:all or 2:disable",
    )
    args = parser.parse_args(argv)
    for package in args.fresh:
        report(f"{package} vs {args.committed}", golden_pairs(package, args.committed))
    for setting in args.onnx:
        from .replay import onnx_pairs, onnx_runner

        threads, level = setting.split(":")
        runner = onnx_runner(args.committed, int(threads), level)
        report(
            f"ONNX Runtime ({threads} threads, optimization {level}) vs {args.committed}",
            onnx_pairs(args.committed, runner),
        )


if __name__ == "__main__":
    main(sys.argv[1:])
