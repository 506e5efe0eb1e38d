"""`quantize FP32_DIR --out DIR`: an fp32 model package -> the same package with int8 weights."""

from __future__ import annotations

import copy
import gc
import json
import logging
import shutil
import time
from pathlib import Path

import onnx

from ..digest import sha256_file
from ..errors import PackageError
from ..export.onnx_file import WrittenGraph, save_graph
from ..export.package import PROVENANCE_FILE, human_bytes
from .graph import quantize_model
from .recipe import DEFAULT_RECIPE, QUANTIZED_GRAPHS, Recipe

log = logging.getLogger(__name__)


def read_fp32_manifest(src: Path) -> dict:
    path = src / "manifest.json"
    if not path.is_file():
        raise PackageError(f"{path} is missing: {src} is not a model package")
    manifest = json.loads(path.read_text())
    dtype = manifest["model"].get("dtype", "fp32")
    if dtype != "fp32":
        raise PackageError(f"{src} is a {dtype} package; quantize takes an fp32 one")
    return manifest


def copy_graph(src: Path, entry: dict, out: Path) -> WrittenGraph:
    files = [entry["file"], *entry.get("external_data", [])]
    for name in files:
        shutil.copyfile(src / name, out / name)
    return WrittenGraph(out / files[0], [out / name for name in files[1:]])


def int8_graph(src: Path, entry: dict, out: Path, recipe: Recipe) -> WrittenGraph:
    model = onnx.load(str(src / entry["file"]), load_external_data=True)
    quantized = quantize_model(model, recipe)
    del model
    written = save_graph(quantized, out / entry["file"])
    del quantized
    gc.collect()
    return written


def write_provenance(src: Path, out: Path, recipe: Recipe) -> None:
    """export.json of the source, marked int8, so that `verify` finds the same reference weights."""
    source = src / PROVENANCE_FILE
    if not source.is_file():
        log.warning("%s has no %s: verify will need --checkpoint", src, PROVENANCE_FILE)
        return
    provenance = json.loads(source.read_text())
    provenance.update(dtype="int8", int8=recipe.to_json(), quantized_from=str(src.resolve()))
    (out / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=2) + "\n")


def quantize_package(src: Path, out: Path, recipe: Recipe = DEFAULT_RECIPE, name: str | None = None) -> dict:
    start = time.perf_counter()
    manifest = read_fp32_manifest(src)
    if out.resolve() == src.resolve():
        raise PackageError("--out must differ from the fp32 package")
    out.mkdir(parents=True, exist_ok=True)
    result = copy.deepcopy(manifest)
    external: list[Path] = []
    for graph, entry in manifest["graphs"].items():
        t0 = time.perf_counter()
        if graph in QUANTIZED_GRAPHS:
            written = int8_graph(src, entry, out, recipe)
        else:
            written = copy_graph(src, entry, out)
        result["graphs"][graph].update(
            sha256=sha256_file(written.file), external_data=[p.name for p in written.external_data]
        )
        external += written.external_data
        before = sum((src / n).stat().st_size for n in [entry["file"], *entry.get("external_data", [])])
        after = sum(p.stat().st_size for p in [written.file, *written.external_data])
        how = "int8" if graph in QUANTIZED_GRAPHS else "copied"
        log.info(
            "%s: %s, %s -> %s in %.1f s",
            graph,
            how,
            human_bytes(before),
            human_bytes(after),
            time.perf_counter() - t0,
        )
    old_external = {n for e in manifest["graphs"].values() for n in e.get("external_data", [])}
    files = {}
    for file_name in manifest["files"]:
        if file_name not in old_external:
            shutil.copyfile(src / file_name, out / file_name)
            files[file_name] = sha256_file(out / file_name)
    files.update({p.name: sha256_file(p) for p in external})
    result["files"] = files
    result["model"]["dtype"] = "int8"
    result["model"]["name"] = name or f"{manifest['model']['name']}-int8"
    (out / "manifest.json").write_text(json.dumps(result, indent=2) + "\n")
    write_provenance(src, out, recipe)
    log.info("int8 package %s written in %.1f s", out, time.perf_counter() - start)
    return result
