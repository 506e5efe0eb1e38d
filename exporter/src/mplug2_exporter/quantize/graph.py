"""Quantizes one ONNX graph with ONNX Runtime's `quantize_dynamic` under a `Recipe`."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic

from .recipe import Recipe

LM_HEAD_MARKER = "/predictions/"  # the decoder's LM head nodes (BertLMPredictionHead)


def excluded(name: str, recipe: Recipe) -> bool:
    if not recipe.lm_head and LM_HEAD_MARKER in name:
        return True
    return any(part in name for part in recipe.keep_fp32)


def kept_fp32(model: onnx.ModelProto, recipe: Recipe) -> list[str]:
    """The MatMuls to leave fp32, by the names ONNX Runtime's quantizer will see.

    In dynamic mode the quantizer first rewrites every Gemm (alpha = beta = 1, no transA) into
    `<name>_MatMul` + `<name>_Add`, with a transposed copy of a constant weight; the original stays
    for its other consumers. So the decoder's LM head, a Gemm on the word-embedding table that the
    embedding Gather shares, gets its own int8 matrix while the Gather keeps the fp32 table.
    """
    names = [n.name for n in model.graph.node if n.op_type == "MatMul"]
    names += [f"{n.name}_MatMul" for n in model.graph.node if n.op_type == "Gemm"]
    return [name for name in names if excluded(name, recipe)]


def quantize_model(model: onnx.ModelProto, recipe: Recipe) -> onnx.ModelProto:
    """The recipe applied to `model`: a new, int8 model. `model` is consumed (saving it to the
    quantizer's input file moves its weights out of the proto)."""
    keep = kept_fp32(model, recipe)
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
