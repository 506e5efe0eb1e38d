"""Writes one graph to ONNX: trace, optional fp16 conversion or int8 quantization, external data for
large graphs, check."""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import onnx
import torch
from onnxruntime.transformers import float16
from onnxruntime.transformers.onnx_model import OnnxModel

from ..config import ModelConfig
from ..nn.numerics import fp16_graph_semantics
from ..quantize.graph import quantize_model
from ..quantize.recipe import DEFAULT_RECIPE, QUANTIZED_GRAPHS
from .graphs import GraphSpec, example

OPSET = 17
EXTERNAL_DATA_MIN_BYTES = 256 << 20  # graphs above this keep their weights in `<name>.onnx.data`
FP32_ONLY_OPS = ["LayerNormalization", "Softmax"]  # kept in fp32 inside fp16 graphs
# Constants saturate at fp16's own limits.
FP16_MIN_POSITIVE, FP16_MAX = 2.0**-24, 65504.0


@dataclass
class WrittenGraph:
    file: Path
    external_data: list[Path]


def trace_to_onnx(spec: GraphSpec, cfg: ModelConfig, path: Path, fp16: bool) -> None:
    """Legacy TorchScript exporter (opset 17): it keeps every named axis dynamic, sizes 0 and 1 included."""
    gen = torch.Generator().manual_seed(0)
    args = tuple(example(t, cfg, gen) for t in spec.inputs)
    semantics = fp16_graph_semantics() if fp16 else contextlib.nullcontext()
    with semantics, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings on static sizes and the legacy-exporter notice
        torch.onnx.export(
            spec.module,
            args,
            str(path),
            input_names=[t.name for t in spec.inputs],
            output_names=[t.name for t in spec.outputs],
            dynamic_axes=spec.dynamic_axes(),
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def declare_shapes(model: onnx.ModelProto, spec: GraphSpec) -> None:
    """Writes the contract's shapes on the graph's inputs/outputs (the tracer leaves some static
    output dims as generated names), so the file says what the manifest says."""
    declared = {t.name: t.shape for t in spec.inputs + spec.outputs}
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        for dim, want in zip(dims, declared[value.name], strict=True):
            if isinstance(want, str):
                dim.dim_param = want
            else:
                dim.dim_value = want


def to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """ONNX Runtime's converter: fp16 weights and math, graph IO and the blocked ops stay fp32."""
    block = list(float16.DEFAULT_OP_BLOCK_LIST) + FP32_ONLY_OPS
    converted = float16.convert_float_to_float16(
        model,
        min_positive_val=FP16_MIN_POSITIVE,
        max_finite_val=FP16_MAX,
        keep_io_types=True,
        op_block_list=block,
    )
    wrapper = OnnxModel(converted)
    wrapper.topological_sort()  # the converter appends its input casts at the end
    return wrapper.model


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_graph(model: onnx.ModelProto, path: Path) -> WrittenGraph:
    """Writes `model` to `path`, its weights in `<path>.data` when they exceed 256 MiB, and checks it."""
    data = path.with_name(path.name + ".data")
    for stale in (path, data):
        stale.unlink(missing_ok=True)
    size = sum(t.ByteSize() for t in model.graph.initializer)
    external = size >= EXTERNAL_DATA_MIN_BYTES
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=external,
        all_tensors_to_one_file=True,
        location=data.name,
        size_threshold=1024,
    )
    for written in (path, data) if external else (path,):
        written.chmod(0o666 & ~current_umask())  # onnx writes external data as 0600
    onnx.checker.check_model(str(path))
    return WrittenGraph(path, [data] if external else [])


def write_graph(spec: GraphSpec, cfg: ModelConfig, out_dir: Path, dtype: str = "fp32") -> WrittenGraph:
    path = out_dir / f"{spec.name}.onnx"
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        traced = Path(tmp) / "traced.onnx"
        trace_to_onnx(spec, cfg, traced, fp16=dtype == "fp16")
        model = onnx.load(str(traced), load_external_data=True)
    declare_shapes(model, spec)
    if dtype == "fp16":
        model = to_fp16(model)
    elif dtype == "int8" and spec.name in QUANTIZED_GRAPHS:
        model = quantize_model(model, DEFAULT_RECIPE)
    written = save_graph(model, path)
    del model
    return written
