"""Quantizes one ONNX graph with ONNX Runtime's `quantize_dynamic` under a `Recipe`."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

from .recipe import Recipe

LM_HEAD_MARKER = "/predictions/"  # the decoder's LM head nodes (BertLMPredictionHead)


def node_names(model: onnx.ModelProto, op_type: str) -> list[str]:
    return [n.name for n in model.graph.node if n.op_type == op_type]


def gemm_to_matmul(model: onnx.ModelProto, node: onnx.NodeProto) -> None:
    """Gemm(A, W, C) with a constant W -> MatMul(A, W') + Add(C), W' its own [K, N] copy.

    ONNX Runtime's dynamic quantizer handles MatMul only. The decoder's LM head is a Gemm whose
    W (transB) is the word-embedding table it shares with the embedding Gather: the Gather keeps
    the fp32 table, the MatMul gets a transposed copy that is then quantized.
    """
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
        raise ValueError(f"{node.name}: only Gemm with transA=0, alpha=beta=1 is rewritten")
    inits = {t.name: t for t in model.graph.initializer}
    weight = numpy_helper.to_array(inits[node.input[1]])
    matrix = np.ascontiguousarray(weight.T if attrs.get("transB", 0) else weight)
    matrix_name = f"{node.name}/weight_kn"
    model.graph.initializer.append(numpy_helper.from_array(matrix, matrix_name))
    product = f"{node.name}/matmul_out"
    matmul = helper.make_node("MatMul", [node.input[0], matrix_name], [product], name=f"{node.name}/MatMul")
    nodes = [matmul]
    if len(node.input) > 2 and node.input[2]:
        bias = helper.make_node("Add", [product, node.input[2]], list(node.output), name=f"{node.name}/Add")
        nodes.append(bias)
    else:
        matmul.output[0] = node.output[0]
    index = list(model.graph.node).index(node)
    del model.graph.node[index]
    for offset, new in enumerate(nodes):
        model.graph.node.insert(index + offset, new)
    still_used = any(node.input[1] in n.input for n in model.graph.node)
    if not still_used:
        model.graph.initializer.remove(inits[node.input[1]])


def constant_gemms(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    inits = {t.name for t in model.graph.initializer}
    return [n for n in model.graph.node if n.op_type == "Gemm" and n.input[1] in inits]


def excluded(name: str, recipe: Recipe) -> bool:
    if not recipe.lm_head and LM_HEAD_MARKER in name:
        return True
    return any(part in name for part in recipe.keep_fp32)


def prepare(model: onnx.ModelProto, recipe: Recipe) -> list[str]:
    """Rewrites the Gemms that are to be quantized into MatMuls; returns the MatMuls to keep fp32."""
    for gemm in constant_gemms(model):
        if not excluded(gemm.name, recipe):
            gemm_to_matmul(model, gemm)
    return [name for name in node_names(model, "MatMul") if excluded(name, recipe)]


def quantize_model(model: onnx.ModelProto, recipe: Recipe) -> onnx.ModelProto:
    """The recipe applied to `model` (modified: its Gemms may be rewritten); a new, int8 model."""
    keep = prepare(model, recipe)
    with tempfile.TemporaryDirectory(prefix="mplug2-int8-") as tmp:
        source, target = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        onnx.save_model(model, str(source), save_as_external_data=True, location="fp32.onnx.data")
        quiet = logging.getLogger()
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # the quantizer logs every skipped node and a pre-processing hint
        try:
            quantize_dynamic(
                source,
                target,
                op_types_to_quantize=["MatMul"],
                per_channel=recipe.per_channel,
                reduce_range=recipe.reduce_range,
                weight_type=QuantType.QInt8,
                nodes_to_exclude=keep,
                use_external_data_format=True,
                extra_options={"MatMulConstBOnly": True, "WeightSymmetric": True},
            )
        finally:
            quiet.setLevel(level)
        return onnx.load(str(target), load_external_data=True)
