"""Parity and interleaved A/B timing of two graph directories with the server's session settings.

usage: ab.py A_DIR B_DIR GRAPH ROUNDS CASE...   CASE = module:k=v,k=v  (module: vision/text/fusion/decoder_step)
A_DIR must hold manifest.json (the package); B_DIR the rewritten graph of the same name.
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

a_dir, b_dir, graph, rounds = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
cases = []
for c in sys.argv[5:]:
    mod, _, kv = c.partition(":")
    cases.append((c, mod, {k: int(v) for k, v in (p.split("=") for p in kv.split(",") if p)}))
probe = ModuleProbe(a_dir, 2)
sa = ort.InferenceSession(str(a_dir / f"{graph}.onnx"), session_options(2))
sb = ort.InferenceSession(str(b_dir / f"{graph}.onnx"), session_options(2))
feeds = {}
for name, mod, args in cases:
    f, _ = getattr(probe, mod)(**args)
    f = {k: v for k, v in f.items() if k in {i.name for i in sa.get_inputs()}}
    # a right-padded row to exercise masking (last row, when batch > 1)
    for m in ("attention_mask", "vision_mask", "past_mask", "memory_mask"):
        if m in f and f[m].shape[0] > 1 and f[m].shape[1] > 3:
            f[m] = f[m].copy()
            f[m][-1, -2:] = 0
    feeds[name] = f
report = {"graph": graph, "a": str(a_dir), "b": str(b_dir), "cases": {}}
for name, mod, args in cases:
    oa = sa.run(None, feeds[name])
    ob = sb.run(None, feeds[name])
    par = {}
    for meta, x, y in zip(sa.get_outputs(), oa, ob):
        d = np.abs(x.astype(np.float64) - y)
        par[meta.name] = {
            "max_abs": float(d.max()),
            "max_rel": float((d / (np.abs(x) + 1e-6)).max()),
            "ref_absmax": float(np.abs(x).max()),
        }
    worst = max(par.values(), key=lambda p: p["max_abs"])
    report["cases"][name] = {
        "parity_worst_max_abs": worst["max_abs"],
        "parity": par,
        "ta": [],
        "tb": [],
        "ca": [],
        "cb": [],
    }
    print(
        name,
        "parity worst max_abs %.3g (ref |x|max %.3g)" % (worst["max_abs"], worst["ref_absmax"]),
        flush=True,
    )
for r in range(rounds):
    for name, mod, args in cases:
        order = [("ta", sa), ("tb", sb)] if r % 2 == 0 else [("tb", sb), ("ta", sa)]
        for key, s in order:
            c0 = time.process_time()
            t0 = time.perf_counter()
            s.run(None, feeds[name])
            report["cases"][name][key].append(time.perf_counter() - t0)
            report["cases"][name]["c" + key[1]].append(time.process_time() - c0)
for name, c in report["cases"].items():
    ma, mb = statistics.median(c["ta"]), statistics.median(c["tb"])
    ratios = [b / a for a, b in zip(c["ta"], c["tb"])]
    q = lambda xs: sorted(xs)[len(xs) // 4]
    c.update(
        med_a=ma,
        med_b=mb,
        ratio_b_over_a=mb / ma,
        median_pair_ratio=statistics.median(ratios),
        min_a=min(c["ta"]),
        min_b=min(c["tb"]),
        q1_a=q(c["ta"]),
        q1_b=q(c["tb"]),
        cpu_med_a=statistics.median(c["ca"]),
        cpu_med_b=statistics.median(c["cb"]),
    )
    print(
        f"{name:40s} A {ma * 1e3:8.1f} ms  B {mb * 1e3:8.1f} ms  med B/A {mb / ma:.3f}  pair-med {statistics.median(ratios):.3f}  "
        f"q1 B/A {q(c['tb']) / q(c['ta']):.3f}  min B/A {min(c['tb']) / min(c['ta']):.3f}  cpu med B/A {c['cpu_med_b'] / c['cpu_med_a']:.3f}  n={len(ratios)}",
        flush=True,
    )
out = Path("/work/fuse-scratch/results")
out.mkdir(exist_ok=True)
tag = (
    b_dir.name
    + "-"
    + graph
    + "-"
    + "_".join(n.replace(":", "-").replace(",", "-").replace("=", "") for n, _, _ in cases)
)
(out / f"{tag}.json").write_text(json.dumps(report, indent=1))
