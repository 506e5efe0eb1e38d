"""Every key and shape of an official mPLUG-2 checkpoint, used ones and unused ones alike.

Written from the official class definitions (note §5.3) so that synthetic checkpoints exercise the
loader exactly as a released file would: CLIP text tower, all FusionLayers, dead universal-layer
weights, the decoder's tied LM weight, buffers, and (for QA checkpoints) the momentum copies.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import HeadsConfig, TextConfig, VisionConfig


@dataclass(frozen=True)
class Entry:
    shape: tuple[int, ...]
    kind: str  # how a random initializer should fill it (see random_checkpoint.py)
    alias_of: str | None = None  # a key sharing this tensor's storage (tied weights)


@dataclass(frozen=True)
class ClipTextTower:
    """The unused CLIP text transformer inside XCLIP; its shapes only matter for realism."""

    width: int
    layers: int
    vocab: int = 49408
    context: int = 77
    embed_dim: int | None = None

    @property
    def embed(self) -> int:
        return self.embed_dim or self.width


Layout = dict[str, Entry]


def _linear(out: Layout, prefix: str, n_out: int, n_in: int, bias: bool = True) -> None:
    out[f"{prefix}.weight"] = Entry((n_out, n_in), "linear")
    if bias:
        out[f"{prefix}.bias"] = Entry((n_out,), "bias")


def _norm(out: Layout, prefix: str, width: int) -> None:
    out[f"{prefix}.weight"] = Entry((width,), "norm_weight")
    out[f"{prefix}.bias"] = Entry((width,), "norm_bias")


def _clip_block(out: Layout, prefix: str, width: int) -> None:
    out[f"{prefix}.attn.in_proj_weight"] = Entry((3 * width, width), "linear")
    out[f"{prefix}.attn.in_proj_bias"] = Entry((3 * width,), "bias")
    _linear(out, f"{prefix}.attn.out_proj", width, width)
    _norm(out, f"{prefix}.ln_1", width)
    _linear(out, f"{prefix}.mlp.c_fc", 4 * width, width)
    _linear(out, f"{prefix}.mlp.c_proj", width, 4 * width)
    _norm(out, f"{prefix}.ln_2", width)


def _local_temporal(out: Layout, prefix: str, width: int) -> None:
    half = width // 2
    _norm(out, f"{prefix}.ln", width)
    out[f"{prefix}.down_proj.weight"] = Entry((half, width, 1, 1, 1), "conv")
    out[f"{prefix}.down_proj.bias"] = Entry((half,), "bias")
    out[f"{prefix}.conv.weight"] = Entry((half, 1, 3, 1, 1), "conv")
    out[f"{prefix}.conv.bias"] = Entry((half,), "bias")
    out[f"{prefix}.up_proj.weight"] = Entry((width, half, 1, 1, 1), "conv")
    out[f"{prefix}.up_proj.bias"] = Entry((width,), "bias")


def xclip(out: Layout, prefix: str, v: VisionConfig, clip: ClipTextTower) -> None:
    w, vis = v.width, f"{prefix}.visual"
    out[f"{vis}.conv1.weight"] = Entry((w, 3, 1, v.patch_size, v.patch_size), "conv")
    out[f"{vis}.class_embedding"] = Entry((w,), "token_embedding")
    out[f"{vis}.positional_embedding"] = Entry((v.patches_per_frame + 1, w), "token_embedding")
    _norm(out, f"{vis}.ln_pre", w)
    for i in range(v.layers):
        block = f"{vis}.transformer.resblocks.{i}"
        _local_temporal(out, f"{block}.lmhra1", w)
        _local_temporal(out, f"{block}.lmhra2", w)
        _clip_block(out, block, w)
    _norm(out, f"{vis}.ln_post", w)
    out[f"{vis}.proj"] = Entry((w, clip.embed), "linear")
    # The CLIP text tower (unused by mPLUG-2)
    out[f"{prefix}.positional_embedding"] = Entry((clip.context, clip.width), "token_embedding")
    out[f"{prefix}.text_projection"] = Entry((clip.width, clip.embed), "linear")
    out[f"{prefix}.logit_scale"] = Entry((), "logit_scale")
    for i in range(clip.layers):
        _clip_block(out, f"{prefix}.transformer.resblocks.{i}", clip.width)
    out[f"{prefix}.token_embedding.weight"] = Entry((clip.vocab, clip.width), "token_embedding")
    _norm(out, f"{prefix}.ln_final", clip.width)


def _embeddings(out: Layout, prefix: str, t: TextConfig, word_kind: str = "word_embedding") -> None:
    out[f"{prefix}.position_ids"] = Entry((1, t.max_position_embeddings), "position_ids")
    out[f"{prefix}.word_embeddings.weight"] = Entry((t.vocab_size, t.hidden_size), word_kind)
    out[f"{prefix}.position_embeddings.weight"] = Entry(
        (t.max_position_embeddings, t.hidden_size), "embedding"
    )
    out[f"{prefix}.token_type_embeddings.weight"] = Entry((t.type_vocab_size, t.hidden_size), "embedding")
    _norm(out, f"{prefix}.LayerNorm", t.hidden_size)


def _attention(out: Layout, prefix: str, t: TextConfig) -> None:
    d = t.hidden_size
    _linear(out, f"{prefix}.self.query", d, d)
    _linear(out, f"{prefix}.self.key", d, t.encoder_width)
    _linear(out, f"{prefix}.self.value", d, t.encoder_width)
    _linear(out, f"{prefix}.output.dense", d, d)
    _norm(out, f"{prefix}.output.LayerNorm", d)


def _ffn(out: Layout, prefix: str, t: TextConfig, intermediate: str, output: str) -> None:
    _linear(out, f"{prefix}.{intermediate}.dense", t.intermediate_size, t.hidden_size)
    _linear(out, f"{prefix}.{output}.dense", t.hidden_size, t.intermediate_size)
    _norm(out, f"{prefix}.{output}.LayerNorm", t.hidden_size)


def bert_layers(
    out: Layout, prefix: str, t: TextConfig, n: int, all_cross: bool, fusion: bool = False
) -> None:
    """Official BertLayer (or FusionLayer when `fusion`) stack of `n` layers under `prefix.layer.<i>`."""
    uni_start = n - t.num_uni_layer
    for i in range(n):
        layer = f"{prefix}.layer.{i}"
        _attention(out, f"{layer}.attention", t)
        if fusion or all_cross or i >= uni_start:
            _attention(out, f"{layer}.crossattention", t)
        if not fusion and i == uni_start:
            out[f"{layer}.latents"] = Entry((t.num_latents, t.hidden_size), "latents")
        _ffn(out, layer, t, "intermediate", "output")
        if not fusion and i >= uni_start:
            _ffn(out, layer, t, "intermediate_vision", "output_vision")


def mplug2_modules(out: Layout, suffix: str, v: VisionConfig, t: TextConfig, clip: ClipTextTower) -> None:
    """The modules of the official MPLUG2 class; suffix "_m" gives the momentum copies."""
    xclip(out, f"visual_encoder{suffix}", v, clip)
    te = f"text_encoder{suffix}"
    _embeddings(out, f"{te}.embeddings", t)
    bert_layers(out, f"{te}.encoder", t, t.text_encoder_layers, all_cross=False)
    fe = f"fusion_encoder{suffix}"
    _embeddings(out, f"{fe}.embeddings", t)
    bert_layers(out, f"{fe}.encoder", t, t.fusion_num_layers, all_cross=True, fusion=True)
    td = f"text_decoder{suffix}"
    _embeddings(out, f"{td}.bert.embeddings", t, word_kind="lm_embedding")
    bert_layers(out, f"{td}.bert.encoder", t, t.text_decode_layers, all_cross=True)
    pred = f"{td}.cls.predictions"
    out[f"{pred}.bias"] = Entry((t.vocab_size,), "lm_bias")
    _linear(out, f"{pred}.transform.dense", t.hidden_size, t.hidden_size)
    _norm(out, f"{pred}.transform.LayerNorm", t.hidden_size)
    word = out[f"{td}.bert.embeddings.word_embeddings.weight"]
    out[f"{pred}.decoder.weight"] = Entry(
        word.shape, word.kind, alias_of=f"{td}.bert.embeddings.word_embeddings.weight"
    )
    out[f"{pred}.decoder.bias"] = Entry((t.vocab_size,), "lm_bias", alias_of=f"{pred}.bias")
    if v.width != t.hidden_size:
        _linear(out, f"visn_fc{suffix}", t.hidden_size, v.width)
        _norm(out, f"visn_layer_norm{suffix}", t.hidden_size)
    _norm(out, f"visn_emb_norm{suffix}", t.hidden_size)


def official_layout(
    v: VisionConfig,
    t: TextConfig,
    clip: ClipTextTower,
    heads: HeadsConfig | None = None,
    momentum: bool = False,
) -> Layout:
    out: Layout = {}
    mplug2_modules(out, "", v, t, clip)
    if momentum:
        mplug2_modules(out, "_m", v, t, clip)
    if heads is not None:
        if heads.vision_proj:
            _linear(out, "vision_proj", heads.embed_dim, t.hidden_size)
        if heads.text_proj:
            _linear(out, "text_proj", heads.embed_dim, t.hidden_size)
        if heads.itm_head:
            _linear(out, "itm_head", 2, t.hidden_size)
        if heads.temp is not None:
            out["temp"] = Entry((), "temp")
    return out
