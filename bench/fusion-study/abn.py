"""Parity and interleaved timing of a package graph (A) against rewritten variants (B1..Bk), server session settings.

usage: abn.py PACKAGE GRAPH ROUNDS VARIANT_DIR[,VARIANT_DIR...] CASE...
CASE = module:k=v,...  (ModuleProbe method: vision/text/fusion/decoder_step). Each round runs every session
once per case in a rotated order; reports per variant: median wall and CPU-time ratios vs A, and the median
of per-round paired ratios. The last batch row gets 2 masked (padded) positions when batch > 1.
"""

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, "/work/wt-fuse/exporter/src")
from mplug2_exporter.perf.ort_probe import ModuleProbe, session_options

pkg, graph, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
dirs = [pkg] + [Path(p) for p in sys.argv[4].split(",")]
names = ["A"] + [d.name for d in dirs[1:]]
cases = []
for c in sys.argv[5:]:
    mod, _, kv = c.partition(":")
    cases.append((c, mod, {k: int(v) for k, v in (p.split("=") for p in kv.split(",") if p)}))
probe = ModuleProbe(pkg, 2)
import os

if os.environ.get(
    "DUMMY_FIRST"
):  # a throwaway session first: the first session a process creates runs slower
    _d = ort.InferenceSession(str(pkg / "heads_itm.onnx"), session_options(2))
order = list(range(len(dirs)))[::-1] if os.environ.get("REVERSE") else list(range(len(dirs)))
made = {i: ort.InferenceSession(str(dirs[i] / f"{graph}.onnx"), session_options(2)) for i in order}
sessions = [made[i] for i in range(len(dirs))]
inputs = {i.name for i in sessions[0].get_inputs()}
feeds = {}
for name, mod, args in cases:
    f, _ = getattr(probe, mod)(**args)
    f = {k: v for k, v in f.items() if k in inputs}
    for m in ("attention_mask", "vision_mask", "past_mask", "memory_mask"):
        if m in f and f[m].shape[0] > 1 and f[m].shape[1] > 3:
            f[m] = f[m].copy()
            f[m][-1, -2:] = 0
    feeds[name] = f
rep = {"package": str(pkg), "graph": graph, "variants": names[1:], "cases": {}}
for name, _, _ in cases:
    ref = sessions[0].run(None, feeds[name])
    c = rep["cases"][name] = {"parity": {}, "wall": {n: [] for n in names}, "cpu": {n: [] for n in names}}
    for vn, s in zip(names[1:], sessions[1:]):
        out = s.run(None, feeds[name])
        worst = (0.0, 0.0, "", 0.0)
        for meta, x, y in zip(sessions[0].get_outputs(), ref, out):
            d = np.abs(x.astype(np.float64) - y)
            ma = float(d.max())
            if ma >= worst[0]:
                worst = (ma, float((d / (np.abs(x) + 1e-3)).max()), meta.name, float(np.abs(x).max()))
        c["parity"][vn] = dict(zip(("max_abs", "max_rel_eps1e-3", "output", "ref_absmax"), worst))
        print(
            f"{name:34s} {vn:22s} parity max_abs {worst[0]:.3g} rel {worst[1]:.3g} on {worst[2]} (|ref|max {worst[3]:.3g})",
            flush=True,
        )
k = len(sessions)
for r in range(rounds):
    for name, _, _ in cases:
        for j in range(k):
            i = (j + r) % k
            c0 = time.process_time()
            t0 = time.perf_counter()
            sessions[i].run(None, feeds[name])
            rep["cases"][name]["wall"][names[i]].append(time.perf_counter() - t0)
            rep["cases"][name]["cpu"][names[i]].append(time.process_time() - c0)
for name, c in rep["cases"].items():
    wa, ca = c["wall"]["A"], c["cpu"]["A"]
    c["summary"] = {"A_wall_median_ms": statistics.median(wa) * 1e3}
    line = f"{name:34s} A {statistics.median(wa) * 1e3:8.1f} ms |"
    for vn in names[1:]:
        wb, cb = c["wall"][vn], c["cpu"][vn]
        s = {
            "wall_median_ms": statistics.median(wb) * 1e3,
            "wall_ratio": statistics.median(wb) / statistics.median(wa),
            "paired_ratio": statistics.median([b / a for a, b in zip(wa, wb)]),
            "cpu_ratio": statistics.median(cb) / statistics.median(ca),
        }
        c["summary"][vn] = s
        line += f" {vn}: {s['wall_median_ms']:7.1f} ms wall {s['wall_ratio']:.3f} paired {s['paired_ratio']:.3f} cpu {s['cpu_ratio']:.3f} |"
    print(line + f" n={rounds}", flush=True)
out = Path("/work/fuse-scratch/results")
out.mkdir(exist_ok=True)
tag = f"{pkg.name}-{graph}-" + "_".join(
    n.split(":")[0] + n.split(":")[1].replace(",", "-").replace("=", "") for n, _, _ in cases
)
(
    out
    / f"{tag}-{'d' if os.environ.get('DUMMY_FIRST') else ''}{'rev' if os.environ.get('REVERSE') else 'fwd'}.json"
).write_text(json.dumps(rep, indent=1))
