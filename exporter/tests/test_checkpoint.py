"""Official checkpoint loading: missing keys, dropped keys, pretrain remap, tied weights, dims from shapes."""

from __future__ import annotations

import pytest
import torch

from mplug2_exporter.checkpoint import load_checkpoint, load_state
from mplug2_exporter.config import bundled_bert_config_path
from mplug2_exporter.errors import CheckpointError, ConfigError
from mplug2_exporter.official_keys import CLIP_TEXT, MOMENTUM

MISSING = [
    "text_encoder.encoder.layer.3.crossattention.self.key.weight",  # a universal layer's cross-attention
    "visual_encoder.visual.transformer.resblocks.1.lmhra2.conv.weight",  # a temporal module
    "visn_emb_norm.bias",
]


def vision_of(model, seed: int = 0) -> torch.Tensor:
    s = model.cfg.vision.image_size
    with torch.no_grad():
        return model.vision(torch.randn(1, 3, 2, s, s, generator=torch.Generator().manual_seed(seed)))


def test_missing_used_keys_fail_and_are_named(tiny_plain):
    state = {k: v for k, v in tiny_plain.state.items() if k not in MISSING}
    with pytest.raises(CheckpointError) as err:
        load_state({"model": state}, tiny_plain.bert_config, 2)
    for key in MISSING:
        assert key in str(err.value)
    assert "lacks 3 keys" in str(err.value)


def test_missing_unused_keys_do_not_matter(tiny_plain):
    unused = [
        "visual_encoder.visual.proj",
        "fusion_encoder.embeddings.word_embeddings.weight",
        "text_encoder.encoder.layer.2.intermediate_vision.dense.weight",
    ]
    state = {k: v for k, v in tiny_plain.state.items() if k not in unused}
    model = load_state({"model": state}, tiny_plain.bert_config, 2).model
    torch.testing.assert_close(vision_of(model), vision_of(tiny_plain.model), rtol=0, atol=0)


def test_momentum_and_clip_text_tower_are_dropped_and_reported(tiny_plain):
    state = tiny_plain.state
    loaded = load_state({"model": state}, tiny_plain.bert_config, 2)
    momentum = [k for k in state if k.split(".")[0].endswith("_m")]
    clip_text = [
        k for k in state if k.startswith("visual_encoder.") and not k.startswith("visual_encoder.visual.")
    ]
    assert loaded.report.dropped[MOMENTUM] == len(momentum) > 100
    assert loaded.report.dropped[CLIP_TEXT] == len(clip_text) > 10
    assert any("momentum" in line for line in loaded.report.lines())
    # the main weights are used, never their momentum copies (which differ)
    key = "text_encoder.encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(state[key], state[key.replace("text_encoder.", "text_encoder_m.")])
    torch.testing.assert_close(loaded.model.state_dict()[key], state[key], rtol=0, atol=0)


def to_pretrain_layout(state: dict) -> dict:
    """Pretrain-style prefixes that the official fine-tune scripts strip (note §5.4)."""
    out = {}
    for key, value in state.items():
        if key.startswith("text_encoder."):
            key = "text_encoder.bert." + key[len("text_encoder.") :]
        elif key.startswith("fusion_encoder."):
            key = "fusion_encoder.fusion." + key[len("fusion_encoder.") :]
        out[key] = value
    return out


def test_pretrain_prefixes_are_remapped(tiny_plain):
    pretrain = to_pretrain_layout(tiny_plain.state)
    renamed = sum(1 for k in pretrain if k not in tiny_plain.state)
    assert renamed > 50
    loaded = load_state({"module": pretrain}, tiny_plain.bert_config, 2)  # DeepSpeed-style `module`
    assert loaded.report.remapped == renamed
    torch.testing.assert_close(vision_of(loaded.model), vision_of(tiny_plain.model), rtol=0, atol=0)
    ids = torch.tensor([[101, 2054, 2003]])
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.model.text(ids, torch.ones_like(ids)),
            tiny_plain.model.text(ids, torch.ones_like(ids)),
            rtol=0,
            atol=0,
        )


def test_tied_lm_weight_is_one_tensor_and_either_key_suffices(tiny_plain):
    decoder = tiny_plain.model.text_decoder
    assert decoder.cls.predictions.decoder.weight is decoder.bert.embeddings.word_embeddings.weight
    state = dict(tiny_plain.state)
    word = state.pop("text_decoder.cls.predictions.decoder.weight")
    del state["text_decoder.cls.predictions.decoder.bias"]
    model = load_state({"model": state}, tiny_plain.bert_config, 2).model
    torch.testing.assert_close(model.text_decoder.cls.predictions.decoder.weight, word, rtol=0, atol=0)


def test_untied_lm_weights_take_the_official_winner(tiny_plain):
    """Officially load_state_dict copies cls.predictions.decoder.weight last into the shared tensor."""
    state = dict(tiny_plain.state)
    state["text_decoder.cls.predictions.decoder.weight"] = (
        state["text_decoder.cls.predictions.decoder.weight"] * 2
    )
    loaded = load_state({"model": state}, tiny_plain.bert_config, 2)
    decoder = loaded.model.text_decoder
    torch.testing.assert_close(
        decoder.bert.embeddings.word_embeddings.weight,
        state["text_decoder.cls.predictions.decoder.weight"],
        rtol=0,
        atol=0,
    )
    assert loaded.report.tied_mismatch


def test_vision_dims_come_from_shapes(tiny):
    v = tiny.loaded.config.vision
    assert (v.width, v.layers, v.patch_size, v.image_size) == (
        tiny.spec.vision.width,
        tiny.spec.vision.layers,
        tiny.spec.vision.patch_size,
        tiny.spec.vision.image_size,
    )
    assert tiny.loaded.config.visn_fc == (v.width != tiny.loaded.config.text.hidden_size)


def test_default_vision_heads_need_an_override_for_narrow_models(tiny_plain):
    with pytest.raises(ConfigError, match="--vision-heads"):
        load_state({"model": tiny_plain.state}, tiny_plain.bert_config, None)


def test_wrong_bert_config_is_reported_with_the_layer_counts(tiny_plain):
    with pytest.raises(ConfigError, match="--bert-config"):
        load_state({"model": tiny_plain.state}, bundled_bert_config_path("large"), 2)


def test_half_precision_checkpoint_is_loaded_as_float32(tiny_plain, tmp_path):
    half = {k: v.half() if v.is_floating_point() else v for k, v in tiny_plain.state.items()}
    path = tmp_path / "half.pth"
    torch.save({"model": half}, path)
    loaded = load_checkpoint(path, tiny_plain.bert_config, 2)
    assert loaded.report.converted_dtypes["torch.float16"] > 100
    assert all(p.dtype == torch.float32 for p in loaded.model.parameters())


def test_unreadable_checkpoint_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "absent.pth")
    torch.save({"optimizer": {}}, tmp_path / "no_model.pth")
    with pytest.raises(CheckpointError, match="no 'model' or 'module'"):
        load_checkpoint(tmp_path / "no_model.pth")
