"""Per-op kernel time (sum over N runs after warm-up) for a graph dir and one case."""

import collections
import json
import sys
from pathlib import Path

import onnxruntime as ort

sys.path.insert(0, "/work/wt-fuse/exporter/src")
from mplug2_exporter.perf.ort_probe import ModuleProbe, session_options

pkg, d, graph, mod, n = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[6])
args = {k: int(v) for k, v in (p.split("=") for p in sys.argv[5].split(","))}
probe = ModuleProbe(pkg, 2)
o = session_options(2)
o.enable_profiling = True
o.profile_file_prefix = f"/tmp/fuseprof-{d.name}"
s = ort.InferenceSession(str(d / f"{graph}.onnx"), o)
f, _ = getattr(probe, mod)(**args)
f = {k: v for k, v in f.items() if k in {i.name for i in s.get_inputs()}}
s.run(None, f)
for _ in range(n):
    s.run(None, f)
tr = json.loads(Path(s.end_profiling()).read_text())
runs = [e for e in tr if e.get("cat") == "Session" and e.get("name") == "model_run"]
start = runs[1]["ts"]
by = collections.Counter()
for e in tr:
    if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= start:
        by[e["args"]["op_name"]] += e["dur"] / 1e3 / n
print(
    d.name,
    "run ms median-ish",
    sorted(r["dur"] for r in runs[1:])[n // 2] / 1e3,
    "kernel ms",
    round(sum(by.values()), 2),
)
for op, ms in by.most_common(12):
    print(f"   {op:28s} {ms:8.2f} ms")
