"""Which int8 GEMM kernel ONNX Runtime (MLAS) runs on this CPU, from the flags in /proc/cpuinfo.

An int8 package multiplies uint8 activations by int8 weights (MLAS's U8S8 GEMM). MLAS picks its
kernel from CPUID once, in this order of preference: AMX (amx_tile + amx_int8), AVX-512 VNNI
(avx512_vnni with the AVX-512 core set), AVX-512 core (avx512bw/dq/vl), AVX-VNNI (avx_vnni),
AVX2, SSE. The VNNI and AMX kernels accumulate u8 x s8 products in int32; the AVX-512 core and
AVX2 kernels use vpmaddubsw, which adds pairs of products in int16 and saturates when both are
large, unless weights stay within 7 bits (`Recipe.reduce_range`). Speed and accuracy figures of
an int8 package are only comparable between machines on the same kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RELEVANT_FLAGS = (
    "avx2",
    "avx_vnni",
    "avx512f",
    "avx512bw",
    "avx512dq",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
)
AVX512_CORE = {"avx512f", "avx512bw", "avx512dq", "avx512vl"}


@dataclass(frozen=True)
class GemmPath:
    kernel: str
    saturates: bool  # int16 pair sums (vpmaddubsw): 8-bit weights can saturate

    def describe(self) -> str:
        how = (
            "vpmaddubsw, int16 pair sums: saturates with 8-bit weights"
            if self.saturates
            else "int32 accumulation, no saturation"
        )
        return f"{self.kernel} ({how})"


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def int8_gemm_path(flags: set[str]) -> GemmPath:
    """MLAS's U8S8 kernel for these flags (onnxruntime/core/mlas/lib/platform.cpp's order)."""
    if {"amx_tile", "amx_int8"} <= flags:
        return GemmPath("AMX", saturates=False)
    if flags >= AVX512_CORE and "avx512_vnni" in flags:
        return GemmPath("AVX-512 VNNI", saturates=False)
    if flags >= AVX512_CORE:
        return GemmPath("AVX-512 core", saturates=True)
    if "avx_vnni" in flags:
        return GemmPath("AVX-VNNI", saturates=False)
    if "avx2" in flags:
        return GemmPath("AVX2", saturates=True)
    return GemmPath("SSE", saturates=False)


def machine_summary(flags: set[str] | None = None) -> str:
    """One line: the relevant flags present and absent, and the int8 kernel they select."""
    flags = cpu_flags() if flags is None else flags
    present = [f for f in RELEVANT_FLAGS if f in flags]
    absent = [f for f in RELEVANT_FLAGS if f not in flags]
    return (
        f"CPU flags: {' '.join(present) or 'none of interest'}; absent: {' '.join(absent) or 'none'}. "
        f"ONNX Runtime int8 GEMM: {int8_gemm_path(flags).describe()}"
    )


def isa_report(flags: set[str] | None = None) -> dict:
    """The same as JSON, for the benchmark suite's results (`python -m mplug2_exporter.perf isa`)."""
    flags = cpu_flags() if flags is None else flags
    path = int8_gemm_path(flags)
    return {
        "flags": [f for f in RELEVANT_FLAGS if f in flags],
        "absent": [f for f in RELEVANT_FLAGS if f not in flags],
        "int8_gemm": path.kernel,
        "int8_saturates": path.saturates,
        "summary": machine_summary(flags),
    }
