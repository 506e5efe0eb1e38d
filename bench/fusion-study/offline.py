"""Offline transformer optimizer over package graphs: writes <out>/<type>-o<lvl>/<graph>.onnx(+.data)."""

import collections
import logging
import sys
from pathlib import Path

import onnx
from onnxruntime.transformers.optimizer import optimize_model

pkg = Path(sys.argv[1])
out = Path(sys.argv[2])
model_type = sys.argv[3]
level = int(sys.argv[4])
variant = sys.argv[5]
graphs = sys.argv[6:]
from onnxruntime.transformers.fusion_options import AttentionMaskFormat, FusionOptions

opts = FusionOptions(model_type)
if "raw" in variant:
    opts.attention_mask_format = AttentionMaskFormat.AttentionMask
if "mha" in variant:
    opts.use_multi_head_attention = True
if "noskip" in variant:
    opts.enable_skip_layer_norm = False
    opts.enable_bias_skip_layer_norm = False
if "noattn" in variant:
    opts.enable_attention = False
if "none" in variant:
    for k in list(vars(opts)):
        if k.startswith("enable_"):
            setattr(opts, k, False)
logging.basicConfig(level=logging.WARNING)
d = out / f"{model_type}-o{level}{variant}"
d.mkdir(parents=True, exist_ok=True)
for g in graphs:
    m = optimize_model(
        str(pkg / f"{g}.onnx"),
        model_type=model_type,
        num_heads=12,
        hidden_size=768,
        opt_level=level,
        use_gpu=False,
        optimization_options=opts,
    )
    c = collections.Counter(n.op_type for n in m.model.graph.node)
    print(
        g,
        model_type,
        level,
        "fused:",
        m.get_fused_operator_statistics() if hasattr(m, "get_fused_operator_statistics") else "",
    )
    print("  ops:", dict(c.most_common()))
    big = sum(t.ByteSize() for t in m.model.graph.initializer) > 1.5e9 or (pkg / f"{g}.onnx.data").exists()
    target = d / f"{g}.onnx"
    for f in (target, d / f"{g}.onnx.data"):
        f.unlink(missing_ok=True)
    if big:
        onnx.save_model(
            m.model,
            str(target),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=f"{g}.onnx.data",
            size_threshold=1024,
        )
    else:
        onnx.save_model(m.model, str(target))
