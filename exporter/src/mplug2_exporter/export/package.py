"""`export`: official checkpoint -> model package directory."""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..checkpoint import LoadedCheckpoint, load_checkpoint
from ..config import bundled_bert_config_path
from ..pipelines import CAPTION_DECODING, CAPTION_PROMPT, VQA_DECODING
from ..quantize.recipe import DEFAULT_RECIPE
from ..tokenizer import build_tokenizer
from .graphs import graph_specs
from .manifest import build_manifest
from .onnx_file import write_graph
from .tasks import graphs_for, select_tasks, servable_tasks

log = logging.getLogger(__name__)

PROVENANCE_FILE = "export.json"  # how the package was made; not part of the package contract


@dataclass
class ExportOptions:
    checkpoint: Path
    out: Path
    bert_config: Path | None = None
    vision_heads: int | None = None
    dtype: str = "fp32"
    tasks: list[str] | None = None
    name: str | None = None
    source_label: str | None = None  # overrides the checkpoint path in the manifest (the demo)
    demo: dict | None = None  # demo provenance (seed, scales) for `verify`
    finetuned_for: str | None = None  # overrides what the checkpoint's config says (a demo variant)


def decoding_for(loaded: LoadedCheckpoint) -> dict:
    """Both tasks' decoding, whatever the tasks served (the manifest always carries both): the released
    defaults, except that a caption checkpoint's own config may set its prompt and beam size."""
    cfg = loaded.checkpoint_config
    caption = CAPTION_DECODING
    if "beam_size" in cfg:
        caption = dataclasses.replace(caption, beam_size=int(cfg["beam_size"]))
    return {"caption": (caption, cfg.get("prompt", CAPTION_PROMPT)), "vqa": (VQA_DECODING, None)}


def human_bytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def export_package(opts: ExportOptions, loaded: LoadedCheckpoint | None = None) -> dict:
    start = time.perf_counter()
    if loaded is None:
        log.info("loading %s", opts.checkpoint)
        loaded = load_checkpoint(opts.checkpoint, opts.bert_config, opts.vision_heads)
        log.info("loaded in %.1f s", time.perf_counter() - start)
    specs = {s.name: s for s in graph_specs(loaded.model)}
    has_temp = loaded.config.heads is not None and loaded.config.heads.temp is not None
    tasks = select_tasks(opts.tasks, servable_tasks(set(specs), has_temp))
    out = opts.out
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    bar = tqdm(graphs_for(tasks), desc="export", unit="graph")
    for name in bar:
        bar.set_postfix_str(name)
        t0 = time.perf_counter()
        w = write_graph(specs[name], loaded.config, out, opts.dtype)
        size = sum(p.stat().st_size for p in [w.file, *w.external_data])
        log.info(
            "%s: %s in %.1f s%s",
            name,
            human_bytes(size),
            time.perf_counter() - t0,
            f" (external data {w.external_data[0].name})" if w.external_data else "",
        )
        written[name] = (specs[name], w.file, w.external_data)
        gc.collect()
    tokenizer_path = out / "tokenizer.json"
    build_tokenizer().save(str(tokenizer_path))
    manifest = build_manifest(
        out_dir=out,
        name=opts.name or f"mplug2-{Path(opts.checkpoint).stem}",
        source=opts.source_label or Path(opts.checkpoint).name,
        source_sha256=None if opts.source_label else loaded.sha256,
        finetuned_for=opts.finetuned_for or loaded.finetuned_for,
        dtype=opts.dtype,
        cfg=loaded.config,
        decoding=decoding_for(loaded),
        tasks=tasks,
        graphs=written,
        files=[tokenizer_path],
    )
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    bert = opts.bert_config or bundled_bert_config_path("large")
    provenance = {
        "checkpoint": None if opts.demo else str(Path(opts.checkpoint).resolve()),
        "bert_config": json.loads(Path(bert).read_text()),
        "vision_heads": loaded.config.vision.heads,
        "dtype": opts.dtype,
        "int8": DEFAULT_RECIPE.to_json() if opts.dtype == "int8" else None,
        "demo": opts.demo,
        "load_report": loaded.report.lines(),
    }
    (out / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=2) + "\n")
    log.info("package %s written in %.1f s (tasks: %s)", out, time.perf_counter() - start, ", ".join(tasks))
    return manifest
