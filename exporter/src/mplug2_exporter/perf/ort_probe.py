"""ONNX Runtime probes: the machine's peak fp32 GEMM rate and the achieved rate of each module graph.

The peak is the best of square MatMul graphs built on the fly. The modules are the package's own
graphs in ONNX Runtime with the server's session settings (graph optimisation `all`, the given
intra-op threads), timed at the given batch sizes; MFU = analytic FLOPs / time / peak.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

from .flops import (
    Dims,
    cross_kv_flops,
    decoder_step_flops,
    fusion_flops,
    text_flops,
    vision_flops,
)


def session_options(threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def timed(run, repeats: int, budget_s: float) -> list[float]:
    """Runs once untimed, then up to `repeats` timed runs within `budget_s`."""
    run()
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < repeats and (not times or time.perf_counter() - started < budget_s):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return times


def peak_gemm(threads: int, sizes: tuple[int, ...] = (1024, 2048, 4096), budget_s: float = 4.0) -> dict:
    rows = []
    for n in sizes:
        a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n])
        b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [n, n])
        c = helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])
        graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "gemm", [a, b], [c])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        session = ort.InferenceSession(model.SerializeToString(), session_options(threads))
        rng = np.random.default_rng(0)
        feeds = {"a": rng.standard_normal((n, n), np.float32), "b": rng.standard_normal((n, n), np.float32)}
        times = timed(lambda s=session, f=feeds: s.run(None, f), 10, budget_s)
        best = min(times)
        rows.append(
            {"n": n, "median_s": statistics.median(times), "best_s": best, "gflops": 2 * n**3 / best / 1e9}
        )
    return {"peak_gflops": max(r["gflops"] for r in rows), "gemms": rows}


class ModuleProbe:
    def __init__(self, package: Path, threads: int):
        self.package = package
        self.manifest = json.loads((package / "manifest.json").read_text())
        self.dims = Dims.from_manifest(self.manifest)
        self.threads = threads
        self.rng = np.random.default_rng(0)

    def session(self, graph: str) -> ort.InferenceSession:
        return ort.InferenceSession(str(self.package / f"{graph}.onnx"), session_options(self.threads))

    def vision(self, batch: int, frames: int) -> tuple[dict, int]:
        size = self.dims.image_size
        pixels = self.rng.standard_normal((batch, 3, frames, size, size), np.float32)
        return {"pixel_values": pixels}, vision_flops(self.dims, frames, batch)

    def text(self, batch: int, tokens: int) -> tuple[dict, int]:
        ids = np.full((batch, tokens), 1037, np.int64)
        return {"input_ids": ids, "attention_mask": np.ones_like(ids)}, text_flops(self.dims, tokens, batch)

    def fusion(self, batch: int, tokens: int, memory: int) -> tuple[dict, int]:
        d = self.dims.hidden
        feeds = {
            "text_embeds": self.rng.standard_normal((batch, tokens, d), np.float32),
            "attention_mask": np.ones((batch, tokens), np.int64),
            "vision_embeds": self.rng.standard_normal((batch, memory, d), np.float32),
            "vision_mask": np.ones((batch, memory), np.int64),
        }
        return feeds, fusion_flops(self.dims, tokens, memory, batch)

    def cross_kv(self, batch: int, memory: int) -> tuple[dict, int]:
        feeds = {"memory": self.rng.standard_normal((batch, memory, self.dims.hidden), np.float32)}
        return feeds, cross_kv_flops(self.dims, memory, batch)

    def decoder_step(self, batch: int, beams: int, past: int, memory: int) -> tuple[dict, int]:
        heads = self.manifest["config"]["text"]["num_attention_heads"]
        hd = self.dims.hidden // heads
        feeds = {
            "input_ids": np.full((batch, beams), 1037, np.int64),
            "position_ids": np.full((batch,), past, np.int64),
            "past_mask": np.ones((batch, past), np.int64),
            "memory_mask": np.ones((batch, memory), np.int64),
        }
        for i in range(self.dims.decoder_layers):
            for kind in ("key", "value"):
                feeds[f"past_{kind}_{i}"] = self.rng.standard_normal(
                    (batch, beams, heads, past, hd), np.float32
                )
                feeds[f"cross_{kind}_{i}"] = self.rng.standard_normal((batch, heads, memory, hd), np.float32)
        return feeds, decoder_step_flops(self.dims, batch * beams, past, memory)


def module_mfu(package: Path, threads: int, peak: float, plan: list[dict], budget_s: float) -> list[dict]:
    """plan rows: {"module", "label", "args": {...}}; each timed within budget_s."""
    probe = ModuleProbe(package, threads)
    sessions: dict[str, ort.InferenceSession] = {}
    rows = []
    for point in plan:
        module = point["module"]
        graph = {"text": "text_encoder", "cross_kv": "decoder_cross_kv"}.get(module, module)
        if graph not in sessions:
            sessions[graph] = probe.session(graph)
        feeds, flops = getattr(probe, module)(**point["args"])
        session = sessions[graph]
        times = timed(lambda s=session, f=feeds: s.run(None, f), point.get("repeats", 5), budget_s)
        median = statistics.median(times)
        achieved = flops / median / 1e9
        rows.append(
            {
                "module": module,
                "label": point["label"],
                "args": point["args"],
                "gflop": flops / 1e9,
                "median_s": median,
                "runs": len(times),
                "gflops": achieved,
                "mfu": achieved / peak,
            }
        )
        if module == "vision" and point["args"].get("frames", 1) > 1:
            sessions.pop(graph)  # the video's arena is large; release it before the next shapes
    return rows


def profile_ops(package: Path, threads: int, module: str, args: dict, out_dir: Path) -> dict:
    """Share of ONNX Runtime kernel time per operator type for one run of a module (after a warm-up)."""
    probe = ModuleProbe(package, threads)
    graph = {"text": "text_encoder", "cross_kv": "decoder_cross_kv"}.get(module, module)
    options = session_options(threads)
    options.enable_profiling = True
    options.profile_file_prefix = str(out_dir / f"ort-profile-{module}")
    session = ort.InferenceSession(str(package / f"{graph}.onnx"), options)
    feeds, _ = getattr(probe, module)(**args)
    session.run(None, feeds)
    session.run(None, feeds)
    trace = json.loads(Path(session.end_profiling()).read_text())
    runs = [e for e in trace if e.get("cat") == "Session" and e.get("name") == "model_run"]
    last_start = runs[-1]["ts"] if runs else 0
    by_op: dict[str, float] = {}
    for event in trace:
        if (
            event.get("cat") == "Node"
            and event["name"].endswith("_kernel_time")
            and event["ts"] >= last_start
        ):
            op = event.get("args", {}).get("op_name", "?")
            by_op[op] = by_op.get(op, 0.0) + event["dur"] / 1e6
    total = sum(by_op.values())
    ranked = sorted(by_op.items(), key=lambda kv: -kv[1])
    return {
        "module": module,
        "args": args,
        "kernel_s": total,
        "run_s": runs[-1]["dur"] / 1e6 if runs else None,
        "ops": [{"op": op, "s": s, "share": s / total} for op, s in ranked[:10]],
    }
