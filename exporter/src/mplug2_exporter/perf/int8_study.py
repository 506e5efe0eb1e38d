"""The int8 accuracy study (docs/PERFORMANCE.md, "int8"): int8 packages against their fp32 sources.

For each size (demo: the committed package; base, large: random weights of the released shapes,
exported on first use into the work directory, ~2.3 + 6.1 GB of checkpoints and 2.1 + 5.2 GB of
packages), quantize with the default recipe and compare on the fixed inputs; `--variant` adds
other recipes (measured on base, or on the first size when base is not run) to show what each
choice costs.
"""

from __future__ import annotations

import json
import logging
import pickle
import time
from dataclasses import replace
from pathlib import Path

from ..config import bundled_bert_config_path
from ..digest import sha256_file
from ..export.package import ExportOptions, export_package
from ..quantize.collect import PackageOutputs, collect
from ..quantize.compare import compare
from ..quantize.inputs import study_inputs
from ..quantize.isa import machine_summary
from ..quantize.package import quantize_package
from ..quantize.recipe import DEFAULT_RECIPE, Recipe
from ..quantize.report import bar_text, markdown_table
from ..synthetic.sizes import write_random_checkpoint

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[4]
VARIANTS = {
    "8-bit weights": replace(DEFAULT_RECIPE, reduce_range=False),
    "LM head fp32": replace(DEFAULT_RECIPE, lm_head=False),
    "per-tensor weights": replace(DEFAULT_RECIPE, per_channel=False),
}


def fp32_package(size: str, work: Path) -> Path:
    if size == "demo":
        return REPO / "models" / "demo"
    package = work / f"{size}-random"
    if (package / "manifest.json").is_file():
        return package
    checkpoint = work / f"ckpt-{size}.pth"
    if not checkpoint.is_file():
        write_random_checkpoint(size, checkpoint, heads=True)
    bert = bundled_bert_config_path(size)
    export_package(ExportOptions(checkpoint, package, bert, name=f"mplug2-{size}-random"))
    return package


def int8_package(fp32: Path, work: Path, recipe: Recipe, suffix: str) -> Path:
    """Quantized once per recipe: reused while its export.json records the same recipe."""
    out = work / f"{fp32.name}-int8{suffix}"
    provenance = out / "export.json"
    if provenance.is_file() and json.loads(provenance.read_text()).get("int8") == recipe.to_json():
        return out
    quantize_package(fp32, out, recipe)
    return out


def cached_collect(package: Path, inputs: list, threads: int, work: Path) -> PackageOutputs:
    """`collect`, kept in the work directory per package manifest and input count (an fp32
    package's outputs serve every recipe compared against it, across runs)."""
    key = f"{sha256_file(package / 'manifest.json')[:16]}-{len(inputs)}"
    path = work / "outputs" / f"{package.name}-{key}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    outputs = collect(package, inputs, threads)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(outputs))
    return outputs


def run_study(sizes: list[str], work: Path, count: int, threads: int, variants: list[str]) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    inputs = study_inputs(count)
    results, variant_results = {}, {}
    variant_size = "base" if "base" in sizes else sizes[0]
    for size in sizes:
        fp32 = fp32_package(size, work)
        start = time.perf_counter()
        reference = cached_collect(fp32, inputs, threads, work)
        log.info("%s fp32: %d inputs in %.0f s", size, count, time.perf_counter() - start)
        recipes = {"": DEFAULT_RECIPE} | ({v: VARIANTS[v] for v in variants} if size == variant_size else {})
        for name, recipe in recipes.items():
            suffix = "" if not name else "-" + name.replace(" ", "-")
            int8 = int8_package(fp32, work, recipe, suffix)
            start = time.perf_counter()
            figures = compare(inputs, reference, cached_collect(int8, inputs, threads, work))
            log.info("%s int8%s: %d inputs in %.0f s", size, suffix, count, time.perf_counter() - start)
            if name:
                variant_results[f"{size}, {name}"] = figures
            else:
                results[size] = figures
                if variants and size == variant_size:
                    variant_results[f"{size}, default"] = figures
    return {"machine": machine_summary(), "inputs": count, "results": results, "variants": variant_results}


def markdown(study: dict) -> str:
    parts = [study["machine"], "", markdown_table(study["results"]), f"Bar: {bar_text()}.", ""]
    if study["variants"]:
        parts += ["Recipe variants:", "", markdown_table(study["variants"])]
    return "\n".join(parts)
