"""What an int8 package quantizes, and how (the numbers behind each choice: docs/PERFORMANCE.md, "int8").

Weights of every MatMul with a constant weight matrix (the linear layers) become int8, symmetric,
one scale per output channel; their activations are quantized to uint8 per tensor at run time
(ONNX Runtime's dynamic quantization: DynamicQuantizeLinear + MatMulInteger, fused at load into
DynamicQuantizeMatMul). Everything else stays fp32: LayerNorm, Softmax, GELU, the convolutions
(patch embedding, temporal conv), embedding tables, and the attention matmuls between two
activations (QK^T, attention × V), which have no constant weight to quantize.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# Graphs whose linear layers are quantized; the projection heads (one small matrix each, whose
# outputs are the retrieval embeddings themselves) are copied unchanged.
QUANTIZED_GRAPHS = ("vision", "text_encoder", "fusion", "decoder_cross_kv", "decoder_step", "decoder_full")


@dataclass(frozen=True)
class Recipe:
    per_channel: bool = True  # one weight scale per output channel (else one per matrix)
    # 7-bit weights (|w| <= 64): ONNX Runtime's AVX2 int8 kernel (vpmaddubsw) adds pairs of u8 x s8
    # products in int16, which saturates with full-range weights (demo decoder logits: cosine 0.955
    # with 8-bit weights, 0.9994 with 7-bit); VNNI and AMX kernels do not saturate.
    reduce_range: bool = True
    lm_head: bool = True  # quantize the decoder's tied LM head (untied into its own int8 matrix)
    keep_fp32: tuple[str, ...] = ()  # node-name substrings kept fp32 (measurement variants)

    def to_json(self) -> dict:
        return {**asdict(self), "keep_fp32": list(self.keep_fp32)}


DEFAULT_RECIPE = Recipe()
