"""int8 packages: `quantize` and `export --dtype int8` (what is quantized, what is not), `verify`."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from mplug2_exporter.cli import main
from mplug2_exporter.digest import sha256_file
from mplug2_exporter.quantize.graph import quantize_model
from mplug2_exporter.quantize.recipe import QUANTIZED_GRAPHS, Recipe

from .conftest import assert_hashes_match
from .test_cli import export_args

FP32_ONLY = ("LayerNormalization", "Softmax", "Erf", "Conv")


@pytest.fixture(scope="module")
def quantized(tiny_factory, tmp_path_factory):
    tiny = tiny_factory("plain")
    out = tmp_path_factory.mktemp("int8") / "package"
    assert main(["quantize", str(tiny.package), "--out", str(out)]) == 0
    return tiny, out


def constant_b(model: onnx.ModelProto) -> tuple[list[onnx.NodeProto], list[onnx.NodeProto]]:
    """(MatMul/Gemm nodes whose B is an initializer, MatMul nodes whose B is an activation)."""
    inits = {t.name for t in model.graph.initializer}
    products = [n for n in model.graph.node if n.op_type in ("MatMul", "Gemm")]
    return [n for n in products if n.input[1] in inits], [n for n in products if n.input[1] not in inits]


def test_quantize_writes_an_int8_package(quantized):
    tiny, out = quantized
    fp32 = json.loads((tiny.package / "manifest.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"]["dtype"] == "int8"
    assert manifest["model"]["name"] == fp32["model"]["name"] + "-int8"
    assert manifest["tasks"] == fp32["tasks"]
    assert_hashes_match(out, manifest)
    assert json.loads((out / "export.json").read_text())["int8"]["reduce_range"] is True
    for name, entry in fp32["graphs"].items():
        assert manifest["graphs"][name]["inputs"] == entry["inputs"], name
        assert manifest["graphs"][name]["outputs"] == entry["outputs"], name
        if name not in QUANTIZED_GRAPHS:
            assert sha256_file(out / entry["file"]) == entry["sha256"], f"{name} must be copied unchanged"


@pytest.mark.parametrize("graph", QUANTIZED_GRAPHS)
def test_linear_weights_are_int8_per_output_channel_and_the_rest_stays_fp32(quantized, graph):
    tiny, out = quantized
    before = onnx.load(str(tiny.package / f"{graph}.onnx"))
    after = onnx.load(str(out / f"{graph}.onnx"))
    weights_before, activations_before = constant_b(before)
    weights_after, activations_after = constant_b(after)
    ops_before, ops_after = (
        Counter(n.op_type for n in before.graph.node),
        Counter(n.op_type for n in after.graph.node),
    )
    assert weights_before and not weights_after, "every linear layer (MatMul/Gemm with a weight) is quantized"
    assert ops_after["MatMulInteger"] == len(weights_before)
    assert len(activations_after) == len(activations_before), "activation x activation matmuls stay fp32"
    for op in FP32_ONLY:
        assert ops_after[op] == ops_before[op], op
    inits = {t.name: t for t in after.graph.initializer}
    for node in (n for n in after.graph.node if n.op_type == "MatMulInteger"):
        weight = inits[node.input[1]]
        assert weight.data_type == TensorProto.INT8
        values = numpy_helper.to_array(weight)
        # reduce_range: |w| <= 64, so a vpmaddubsw pair sum stays within int16 (2 x 255 x 64 = 32640)
        assert np.abs(values.astype(np.int32)).max() <= 64
        zero_point = numpy_helper.to_array(inits[node.input[3]])
        assert zero_point.shape == (values.shape[1],) and not zero_point.any(), (
            "symmetric, per output channel"
        )
    types = {v.name: v.type.tensor_type.elem_type for v in [*after.graph.input, *after.graph.output]}
    assert set(types.values()) <= {TensorProto.FLOAT, TensorProto.INT64}


def tied_head_model() -> onnx.ModelProto:
    """An embedding Gather and a transB Gemm sharing one table, as the decoder's tied LM head."""
    rng = np.random.default_rng(0)
    table = rng.standard_normal((40, 8)).astype(np.float32)
    bias = rng.standard_normal(40).astype(np.float32)
    nodes = [
        helper.make_node("Gather", ["table", "ids"], ["embedded"], name="/embeddings/Gather"),
        helper.make_node("Gemm", ["x", "table", "bias"], ["logits"], name="/predictions/Gemm", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tied",
        [
            helper.make_tensor_value_info("ids", TensorProto.INT64, [3]),
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 8]),
        ],
        [
            helper.make_tensor_value_info("embedded", TensorProto.FLOAT, [3, 8]),
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, [3, 40]),
        ],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(bias, "bias")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def run(model: onnx.ModelProto, feeds: dict) -> list[np.ndarray]:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, feeds
    )


TIED_FEEDS = {
    "ids": np.array([0, 5, 39]),
    "x": np.random.default_rng(1).standard_normal((3, 8)).astype(np.float32),
}


def test_the_tied_lm_head_gets_its_own_int8_matrix_and_the_embedding_keeps_the_fp32_table():
    embedded, logits = run(tied_head_model(), TIED_FEEDS)
    quantized = quantize_model(tied_head_model(), Recipe())
    inits = {t.name: t for t in quantized.graph.initializer}
    gather = next(n for n in quantized.graph.node if n.op_type == "Gather")
    assert inits[gather.input[0]].data_type == TensorProto.FLOAT and list(inits[gather.input[0]].dims) == [
        40,
        8,
    ]
    matmul = next(n for n in quantized.graph.node if n.op_type == "MatMulInteger")
    assert inits[matmul.input[1]].data_type == TensorProto.INT8 and list(inits[matmul.input[1]].dims) == [
        8,
        40,
    ]
    got_embedded, got_logits = run(quantized, TIED_FEEDS)
    np.testing.assert_array_equal(got_embedded, embedded)
    assert not np.array_equal(got_logits, logits)
    cos = float((got_logits * logits).sum() / np.linalg.norm(got_logits) / np.linalg.norm(logits))
    assert cos > 0.999


def test_an_lm_head_kept_fp32_stays_exact():
    embedded, logits = run(tied_head_model(), TIED_FEEDS)
    quantized = quantize_model(tied_head_model(), Recipe(lm_head=False))
    assert not any(n.op_type == "MatMulInteger" for n in quantized.graph.node)
    got_embedded, got_logits = run(quantized, TIED_FEEDS)
    np.testing.assert_array_equal(got_embedded, embedded)
    np.testing.assert_allclose(got_logits, logits, rtol=1e-6, atol=1e-6)


def test_export_dtype_int8_writes_what_quantize_writes(quantized, tmp_path):
    tiny, out = quantized
    exported = tmp_path / "exported"
    assert main(export_args(tiny, tiny.checkpoint, exported, "--dtype", "int8")) == 0
    manifest = json.loads((exported / "manifest.json").read_text())
    assert manifest["model"]["dtype"] == "int8"
    quantized_manifest = json.loads((out / "manifest.json").read_text())
    for name, entry in manifest["graphs"].items():
        assert entry["sha256"] == quantized_manifest["graphs"][name]["sha256"], name


def test_quantize_refuses_a_package_that_is_not_fp32(quantized, tmp_path, caplog):
    _, out = quantized
    assert main(["quantize", str(out), "--out", str(tmp_path / "again")]) == 2
    assert "is a int8 package; quantize takes an fp32 one" in caplog.text


def test_verify_holds_an_int8_package_to_the_cosine(quantized, capsys):
    _, out = quantized
    assert main(["verify", str(out), "--frames", "1"]) == 0
    report = capsys.readouterr().out
    assert "verify (int8 against fp32 PyTorch): all graphs within bounds" in report
    assert "cosine >= 0.99" in report
    assert main(["verify", str(out), "--frames", "1", "--min-cosine", "0.9999999"]) == 1
    failed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if "[FAIL" in line]
    assert set(failed) <= set(QUANTIZED_GRAPHS) and "vision" in failed
