"""Which module shapes the suite measures for MFU (base shapes: images at batch 1 and 8, a 16-frame
video, the text side and a decoder step), and the op profiles that explain the gaps."""

from __future__ import annotations

import json
from pathlib import Path

from .flops import Dims, attention_universal_flops
from .ort_probe import module_mfu, peak_gemm, profile_ops


def plan(dims: Dims, quick: bool) -> list[dict]:
    image, video = dims.vision_tokens(1), dims.vision_tokens(16)
    rows = [
        {"module": "vision", "label": "image, batch 1", "args": {"batch": 1, "frames": 1}},
        {"module": "vision", "label": "images, batch 8", "args": {"batch": 8, "frames": 1}, "repeats": 3},
        {"module": "vision", "label": "16-frame video", "args": {"batch": 1, "frames": 16}, "repeats": 2},
        {"module": "text", "label": "10 tokens, batch 1", "args": {"batch": 1, "tokens": 10}},
        {"module": "text", "label": "10 tokens, batch 8", "args": {"batch": 8, "tokens": 10}},
        {
            "module": "fusion",
            "label": f"10 × {image} tokens, batch 8",
            "args": {"batch": 8, "tokens": 10, "memory": image},
        },
        {"module": "cross_kv", "label": f"memory {image}, batch 1", "args": {"batch": 1, "memory": image}},
        {"module": "cross_kv", "label": f"memory {video}, batch 1", "args": {"batch": 1, "memory": video}},
        {
            "module": "decoder_step",
            "label": f"1 request × 5 beams, past 10, memory {image}",
            "args": {"batch": 1, "beams": 5, "past": 10, "memory": image},
        },
        {
            "module": "decoder_step",
            "label": f"8 requests × 5 beams, past 10, memory {image}",
            "args": {"batch": 8, "beams": 5, "past": 10, "memory": image},
        },
    ]
    if quick:
        rows = [r for r in rows if r["args"].get("frames", 1) == 1]
        for row in rows:
            row["repeats"] = 1
    return rows


def run_probes(package: Path, threads: int, quick: bool, work_dir: Path) -> dict:
    manifest = json.loads((package / "manifest.json").read_text())
    dims = Dims.from_manifest(manifest)
    sizes = (512, 1024) if quick else (1024, 2048, 4096)
    peak = peak_gemm(threads, sizes, budget_s=1.0 if quick else 4.0)
    budget = 2.0 if quick else 12.0
    rows = module_mfu(package, threads, peak["peak_gflops"], plan(dims, quick), budget)
    profiles = []
    if not quick:
        profiles.append(profile_ops(package, threads, "vision", {"batch": 1, "frames": 16}, work_dir))
        profiles.append(
            profile_ops(
                package,
                threads,
                "decoder_step",
                {"batch": 1, "beams": 5, "past": 10, "memory": 197},
                work_dir,
            )
        )
    return {
        "package": str(package),
        "threads": threads,
        "peak": peak,
        "modules": rows,
        "universal_attention_gflop_video": attention_universal_flops(dims, 16) / 1e9,
        "profiles": profiles,
    }
