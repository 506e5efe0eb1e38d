"""Micro A/B: one vision attention block (VisionAttention as the exporter traces it) vs com.microsoft Attention
and MultiHeadAttention rewrites with the same weights; server session settings; interleaved rounds."""

import statistics
import sys
import time
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, "/work/wt-fuse/exporter/src")
from mplug2_exporter.nn.vision import VisionAttention
from mplug2_exporter.perf.ort_probe import session_options

torch.manual_seed(0)
m = VisionAttention(768, 12).eval()
with torch.no_grad():
    m.in_proj_weight.normal_(0, 0.02)
    m.in_proj_bias.normal_(0, 0.02)
    m.out_proj.weight.normal_(0, 0.02)
    m.out_proj.bias.normal_(0, 0.02)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    torch.onnx.export(
        m,
        (torch.randn(1, 197, 768),),
        "/work/fuse-scratch/va_ref.onnx",
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "n", 1: "l"}, "y": {0: "n", 1: "l"}},
        opset_version=17,
        dynamo=False,
    )
W = m.in_proj_weight.detach().numpy().T.copy()  # [768, 2304]: Q | K | V, heads contiguous
b = m.in_proj_bias.detach().numpy().copy()
Wo = m.out_proj.weight.detach().numpy().T.copy()
bo = m.out_proj.bias.detach().numpy().copy()
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", "l", 768])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "l", 768])
inits = [numpy_helper.from_array(a, n) for a, n in ((W, "W"), (b, "b"), (Wo, "Wo"), (bo, "bo"))]
tail = [helper.make_node("MatMul", ["ctx", "Wo"], ["o"]), helper.make_node("Add", ["o", "bo"], ["y"])]
ms = helper.make_opsetid("com.microsoft", 1)
g1 = helper.make_graph(
    [helper.make_node("Attention", ["x", "W", "b"], ["ctx"], domain="com.microsoft", num_heads=12)] + tail,
    "attn",
    [x],
    [y],
    inits,
)
onnx.save(
    helper.make_model(g1, opset_imports=[helper.make_opsetid("", 17), ms]),
    "/work/fuse-scratch/va_attention.onnx",
)
split = numpy_helper.from_array(np.array([768, 768, 768], np.int64), "split")
g2 = helper.make_graph(
    [
        helper.make_node("MatMul", ["x", "W"], ["qkv"]),
        helper.make_node("Split", ["qkv", "split"], ["q", "k", "v"], axis=2),
        helper.make_node(
            "MultiHeadAttention", ["q", "k", "v", "b"], ["ctx"], domain="com.microsoft", num_heads=12
        ),
    ]
    + tail,
    "mha",
    [x],
    [y],
    inits + [split],
)
onnx.save(
    helper.make_model(g2, opset_imports=[helper.make_opsetid("", 17), ms]), "/work/fuse-scratch/va_mha.onnx"
)
names = ["va_ref", "va_attention", "va_mha"]
S = [ort.InferenceSession(f"/work/fuse-scratch/{n}.onnx", session_options(2)) for n in names]
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
for n_img in (1, 8):
    xin = {"x": np.random.default_rng(0).standard_normal((n_img, 197, 768), np.float32)}
    ref = S[0].run(None, xin)[0]
    for nm, s in zip(names[1:], S[1:]):
        print(
            f"n={n_img} {nm} parity max_abs {np.abs(s.run(None, xin)[0] - ref).max():.3g}  |ref|max {np.abs(ref).max():.3g}"
        )
    t = {nm: [] for nm in names}
    for r in range(rounds):
        for j in range(3):
            i = (j + r) % 3
            t0 = time.perf_counter()
            S[i].run(None, xin)
            t[names[i]].append(time.perf_counter() - t0)
    a = statistics.median(t["va_ref"])
    print(
        f"n={n_img} ref {a * 1e3:.2f} ms "
        + " ".join(
            f"{nm} {statistics.median(t[nm]) * 1e3:.2f} ms ({statistics.median(t[nm]) / a:.3f}, paired {statistics.median([q / p for p, q in zip(t['va_ref'], t[nm])]):.3f})"
            for nm in names[1:]
        )
    )
