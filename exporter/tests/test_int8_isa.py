"""Which MLAS int8 kernel a CPU's flags select (the order of onnxruntime's platform.cpp)."""

from __future__ import annotations

import json

from mplug2_exporter.perf.__main__ import main
from mplug2_exporter.quantize.isa import cpu_flags, int8_gemm_path, isa_report, machine_summary

AVX512_CORE = {"avx2", "avx512f", "avx512bw", "avx512dq", "avx512vl"}


def test_the_kernel_follows_the_flags():
    assert int8_gemm_path({"sse4_1"}).kernel == "SSE"
    assert int8_gemm_path({"avx2"}) == int8_gemm_path({"avx2", "avx512f"})  # AVX-512F alone: still AVX2
    assert int8_gemm_path({"avx2"}).saturates
    assert int8_gemm_path({"avx2", "avx_vnni"}).kernel == "AVX-VNNI"
    assert int8_gemm_path(AVX512_CORE).kernel == "AVX-512 core"
    assert int8_gemm_path(AVX512_CORE).saturates
    vnni = int8_gemm_path(AVX512_CORE | {"avx512_vnni", "avx_vnni"})
    assert vnni.kernel == "AVX-512 VNNI" and not vnni.saturates
    assert int8_gemm_path(AVX512_CORE | {"avx512_vnni", "amx_tile", "amx_int8"}).kernel == "AMX"
    assert int8_gemm_path({"avx2", "amx_tile"}).kernel == "AVX2"  # AMX needs its int8 unit too


def test_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\nbugs\t\t: none\n")
    assert cpu_flags(cpuinfo) == {"fpu", "sse2", "avx2", "fma"}
    assert cpu_flags(tmp_path / "missing") == set()
    summary = machine_summary({"avx2"})
    assert summary.startswith("CPU flags: avx2; absent: avx_vnni") and "AVX2 (vpmaddubsw" in summary


def test_the_suite_gets_the_isa_as_json(tmp_path):
    report = isa_report({"avx2", "avx512f", "fma"})
    assert report["flags"] == ["avx2", "avx512f"] and "amx_int8" in report["absent"]
    assert report["int8_gemm"] == "AVX2" and report["int8_saturates"]
    assert report["summary"] == machine_summary({"avx2", "avx512f"})
    out = tmp_path / "isa.json"
    assert main(["isa", "--out", str(out)]) == 0
    here = json.loads(out.read_text())
    assert here["int8_gemm"] == int8_gemm_path(cpu_flags()).kernel
    assert set(here["flags"]) <= cpu_flags()
