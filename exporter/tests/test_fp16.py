"""`--dtype fp16`: fp16 weights and math, LayerNorm/Softmax and all graph IO in fp32, no frozen inf-check."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto

from mplug2_exporter.onnx_runner import PackageRunner
from mplug2_exporter.verify import graph_cases


@pytest.fixture
def fp16(tiny_factory):
    return tiny_factory("plain", "fp16")


def value_types(model: onnx.ModelProto) -> dict[str, int]:
    inferred = onnx.shape_inference.infer_shapes(model)
    graph = inferred.graph
    types = {v.name: v.type.tensor_type.elem_type for v in [*graph.value_info, *graph.input, *graph.output]}
    types.update({t.name: t.data_type for t in graph.initializer})
    return types


def test_fp16_graph_structure(fp16):
    runner = PackageRunner(fp16.package)
    assert runner.manifest["model"]["dtype"] == "fp16"
    for name in runner.graphs:
        model = onnx.load(str(fp16.package / f"{name}.onnx"))
        graph = model.graph
        floats = [t for t in graph.initializer if t.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16)]
        big = [t for t in floats if np.prod(t.dims) >= 64]
        assert big and all(t.data_type == TensorProto.FLOAT16 for t in big), name
        for io in [*graph.input, *graph.output]:
            assert io.type.tensor_type.elem_type in (TensorProto.FLOAT, TensorProto.INT64), (
                f"{name}: {io.name}"
            )
        ops = {n.op_type for n in graph.node}
        assert "If" not in ops and "Loop" not in ops, f"{name}: a data-dependent branch was traced"
        types = value_types(model)
        for node in graph.node:
            if node.op_type in ("LayerNormalization", "Softmax"):
                assert types.get(node.input[0]) == TensorProto.FLOAT, f"{name}: {node.op_type} not in fp32"
        if name in ("text_encoder", "fusion", "decoder_step", "decoder_full"):
            assert "Clip" in ops, f"{name}: the official clamp_inf must be an unconditional clamp in fp16"


def test_fp16_outputs_stay_close_to_fp32_pytorch(fp16):
    runner = PackageRunner(fp16.package)
    with torch.no_grad():
        for graph in runner.graphs:
            for case in graph_cases(fp16.model, graph, [1, 4], 2, torch.Generator().manual_seed(3)):
                outputs = runner.run(graph, case.feeds)
                for got, want in zip(outputs, case.expected, strict=True):
                    want = want.numpy()
                    scale = max(1.0, float(np.abs(want).max()))
                    assert np.abs(got - want).max() <= 2e-2 * scale, f"{graph} {case.label}"
