"""Counts op types in raw graphs and in ORT's level-all optimized graphs (CPU)."""

import collections
import json
import sys
from pathlib import Path

import onnx
import onnxruntime as ort

sys.path.insert(0, "/work/wt-fuse/exporter/src")
from mplug2_exporter.perf.ort_probe import session_options


def counts(path):
    m = onnx.load(str(path), load_external_data=False)
    return collections.Counter(n.op_type for n in m.graph.node), m.opset_import


if __name__ == "__main__":
    pkg = Path(sys.argv[1])
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    res = {}
    for g in sys.argv[3:]:
        raw, ops = counts(pkg / f"{g}.onnx")
        o = session_options(2)
        o.optimized_model_filepath = str(out / f"{g}.opt.onnx")
        o.add_session_config_entry(
            "session.optimized_model_external_initializers_file_name", f"{g}.opt.onnx.data"
        )
        o.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
        ort.InferenceSession(str(pkg / f"{g}.onnx"), o)
        opt, _ = counts(out / f"{g}.opt.onnx")
        res[g] = {"raw": dict(raw.most_common()), "opt": dict(opt.most_common())}
        print(g, [(x.domain, x.version) for x in ops])
        print("  raw:", dict(raw.most_common()))
        print("  opt:", dict(opt.most_common()))
    (out / "counts.json").write_text(json.dumps(res, indent=1))
