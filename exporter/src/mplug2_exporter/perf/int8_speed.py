"""fp32 against int8 speed in ONNX Runtime with the server's session settings (optimisation `all`,
no spinning, the given intra-op threads): one linear layer alone at two shapes, then the package's
own graphs where int8 is meant to pay (vision at batch 8, one decoder step). The load average is
recorded before and after, since other work on the machine skews every figure.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from ..quantize.graph import quantize_model
from ..quantize.isa import machine_summary
from ..quantize.recipe import DEFAULT_RECIPE
from .ort_probe import module_mfu, session_options, timed

# (rows, in, out): a base vision MLP layer over 8 images (8 × 197 tokens) and one over 5 beams
LINEAR_SHAPES = [(1576, 768, 3072), (5, 768, 3072)]
MODULE_POINTS = [
    {"module": "vision", "label": "images, batch 8", "args": {"batch": 8, "frames": 1}, "repeats": 3},
    {
        "module": "decoder_step",
        "label": "1 request × 5 beams, past 10, memory 197",
        "args": {"batch": 1, "beams": 5, "past": 10, "memory": 197},
        "repeats": 20,
    },
    {
        "module": "decoder_step",
        "label": "8 requests × 5 beams, past 10, memory 197",
        "args": {"batch": 8, "beams": 5, "past": 10, "memory": 197},
        "repeats": 10,
    },
]


def linear_model(k: int, n: int) -> onnx.ModelProto:
    weight = np.random.default_rng(0).standard_normal((k, n)).astype(np.float32) * 0.02
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="/linear/MatMul")],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", n])],
        [numpy_helper.from_array(weight, "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def linear_speed(threads: int) -> list[dict]:
    rows = []
    for m, k, n in LINEAR_SHAPES:
        fp32 = linear_model(k, n)
        int8 = quantize_model(linear_model(k, n), DEFAULT_RECIPE)
        x = np.random.default_rng(1).standard_normal((m, k)).astype(np.float32)
        row = {"shape": [m, k, n]}
        for label, model in (("fp32", fp32), ("int8", int8)):
            session = ort.InferenceSession(model.SerializeToString(), session_options(threads))
            times = timed(lambda s=session, f={"x": x}: s.run(None, f), 200 if m < 100 else 20, 5.0)
            median = statistics.median(times)
            row[label] = {"median_s": median, "gops": 2 * m * k * n / median / 1e9}
        row["speedup"] = row["fp32"]["median_s"] / row["int8"]["median_s"]
        rows.append(row)
    return rows


def module_speed(fp32: Path, int8: Path, threads: int) -> list[dict]:
    rows = []
    measured = {
        label: module_mfu(p, threads, 1.0, MODULE_POINTS, 30.0)
        for label, p in (("fp32", fp32), ("int8", int8))
    }
    for a, b in zip(measured["fp32"], measured["int8"], strict=True):
        rows.append(
            {
                "module": a["module"],
                "label": a["label"],
                "fp32_s": a["median_s"],
                "int8_s": b["median_s"],
                "speedup": a["median_s"] / b["median_s"],
                "runs": [a["runs"], b["runs"]],
            }
        )
    return rows


def graph_bytes(package: Path, graph: str) -> int:
    files = [package / f"{graph}.onnx", package / f"{graph}.onnx.data"]
    return sum(f.stat().st_size for f in files if f.is_file())


def run_speed(fp32: Path, int8: Path, threads: int) -> dict:
    load_before = os.getloadavg()
    result = {
        "machine": machine_summary(),
        "onnxruntime": ort.__version__,
        "threads": threads,
        "linear": linear_speed(threads),
        "modules": module_speed(fp32, int8, threads),
        "bytes": {g: [graph_bytes(fp32, g), graph_bytes(int8, g)] for g in ("vision", "decoder_step")},
    }
    result["load_average"] = {"before": load_before, "after": os.getloadavg()}
    return result


def markdown(result: dict) -> str:
    lines = [
        result["machine"],
        "",
        f"ONNX Runtime {result['onnxruntime']}, {result['threads']} intra-op threads; load average "
        f"{result['load_average']['before'][0]:.2f} before, {result['load_average']['after'][0]:.2f} after.",
        "",
        "| what | fp32 | int8 | int8 speed-up |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in result["linear"]:
        m, k, n = row["shape"]
        cells = [f"{row[t]['median_s'] * 1e3:.2f} ms ({row[t]['gops']:.0f} GOP/s)" for t in ("fp32", "int8")]
        lines.append(f"| MatMul {m}×{k}×{n} | {cells[0]} | {cells[1]} | {row['speedup']:.2f}× |")
    for row in result["modules"]:
        cells = [f"{row[t] * 1e3:.1f} ms" for t in ("fp32_s", "int8_s")]
        lines.append(f"| {row['module']}, {row['label']} | {cells[0]} | {cells[1]} | {row['speedup']:.2f}× |")
    return "\n".join(lines) + "\n"
