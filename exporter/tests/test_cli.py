"""The command line: export (tasks, manifest, errors) and verify (pass, and fail on a tampered graph)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from mplug2_exporter.cli import main
from mplug2_exporter.digest import sha256_file

from .conftest import ALL_TASKS, assert_hashes_match


def export_args(tiny, checkpoint, out, *extra: str) -> list[str]:
    return [
        "export",
        "--checkpoint",
        str(checkpoint),
        "--bert-config",
        str(tiny.bert_config),
        "--vision-heads",
        str(tiny.spec.vision.heads),
        "--out",
        str(out),
        *extra,
    ]


def test_export_writes_the_contracted_package(tiny_plain, tmp_path):
    out = tmp_path / "pkg"
    args = export_args(tiny_plain, tiny_plain.checkpoint, out)
    assert main(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format_version"] == 1
    assert manifest["model"]["source_checkpoint_sha256"] == sha256_file(tiny_plain.checkpoint)
    assert manifest["model"]["dtype"] == "fp32"
    assert manifest["tasks"] == ALL_TASKS
    vision = manifest["graphs"]["vision"]
    assert vision["inputs"] == [
        {"name": "pixel_values", "dtype": "float32", "shape": ["batch", 3, "frames", 32, 32]}
    ]
    assert vision["outputs"][0]["name"] == "vision_embeds"
    for name, entry in manifest["graphs"].items():
        model = onnx.load(str(out / entry["file"]))
        assert [i.name for i in model.graph.input] == [i["name"] for i in entry["inputs"]], name
        assert [o.name for o in model.graph.output] == [o["name"] for o in entry["outputs"]], name
        for value, declared in zip(
            [*model.graph.input, *model.graph.output], entry["inputs"] + entry["outputs"], strict=True
        ):
            dims = [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
            assert dims == declared["shape"], f"{name}: {value.name}"
    assert_hashes_match(out, manifest)
    assert list(manifest["files"]) == ["tokenizer.json"]
    assert manifest["config"]["heads"]["embed_dim"] == 24
    assert manifest["decoding"]["caption"]["prompt"] == "a video of"


def test_tasks_flag_narrows_the_graphs(tiny_plain, tmp_path):
    out = tmp_path / "caption-only"
    args = export_args(tiny_plain, tiny_plain.checkpoint, out, "--tasks", "caption")
    assert main(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tasks"] == ["caption"]
    assert set(manifest["graphs"]) == {"vision", "decoder_cross_kv", "decoder_step", "decoder_full"}
    assert set(manifest["decoding"]) == {"caption", "vqa"}  # always both, as the manifest contract has them


def test_tasks_the_checkpoint_cannot_serve_are_refused(tiny_factory, tmp_path, caplog):
    no_heads = tiny_factory("visn_fc")
    args = export_args(no_heads, no_heads.checkpoint, tmp_path / "x", "--tasks", "vqa,classify")
    assert main(args) == 2
    assert "cannot serve classify" in caplog.text


def test_missing_key_fails_the_export_with_its_name(tiny_plain, tmp_path, caplog):
    state = dict(tiny_plain.state)
    del state["text_encoder.encoder.layer.2.latents"]
    ckpt = tmp_path / "broken.pth"
    torch.save({"model": state}, ckpt)
    args = export_args(tiny_plain, ckpt, tmp_path / "out")
    assert main(args) == 2
    assert "text_encoder.encoder.layer.2.latents" in caplog.text


def test_finetuned_task_comes_from_the_checkpoint_config(tiny_plain, tmp_path):
    ckpt = tmp_path / "caption.pth"
    torch.save({"model": tiny_plain.state, "config": {"prompt": "a picture of", "beam_size": 3}}, ckpt)
    out = tmp_path / "pkg"
    args = export_args(tiny_plain, ckpt, out, "--tasks", "caption")
    assert main(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"]["finetuned_for"] == "caption"
    assert manifest["decoding"]["caption"]["prompt"] == "a picture of"
    assert manifest["decoding"]["caption"]["beam_size"] == 3


def test_verify_passes_and_fails_on_a_tampered_graph(tiny_plain, tmp_path, capsys):
    assert main(["verify", str(tiny_plain.package), "--frames", "1,4"]) == 0
    assert "all graphs within bounds" in capsys.readouterr().out
    tampered = tmp_path / "tampered"
    shutil.copytree(tiny_plain.package, tampered)
    model = onnx.load(str(tampered / "fusion.onnx"))
    weight = max(model.graph.initializer, key=lambda t: np.prod(t.dims))
    values = numpy_helper.to_array(weight).copy()
    values.flat[0] += 0.5
    weight.CopyFrom(numpy_helper.from_array(values, weight.name))
    onnx.save(model, str(tampered / "fusion.onnx"))
    assert main(["verify", str(tampered), "--frames", "1"]) == 1
    out = capsys.readouterr().out
    assert "fusion" in out and "FAIL" in out
