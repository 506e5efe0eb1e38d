#!/usr/bin/env bash
# Regenerates the demo goldens under different kernel choices (MKL instruction set and
# reproducibility mode, ATen CPU capability, thread counts), replays the committed ones in ONNX
# Runtime, and prints per kind of quantity the largest difference from the committed goldens: the
# measurements behind docs/tolerances.md. About a minute per variant.
# Usage: scripts/measure-tolerances.sh [OUT_DIR]   (the exporter's .venv must exist)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$(mktemp -d)}"
py="$root/exporter/.venv/bin/python"
export PYTHONPATH="$root/exporter/src"

variants=(
  "default"
  "--threads 1"
  "MKL_ENABLE_INSTRUCTIONS=SSE4_2"
  "MKL_ENABLE_INSTRUCTIONS=AVX2"
  "MKL_CBWR=COMPATIBLE"
  "ATEN_CPU_CAPABILITY=default"
  "ATEN_CPU_CAPABILITY=avx2"
  "ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2 --threads 1"
)
packages=()
for i in "${!variants[@]}"; do
  variant="${variants[$i]}" envs=() args=()
  [ "$variant" = default ] || for word in $variant; do
    case "$word" in --*) args+=("$word") ;; *=*) envs+=("$word") ;; *) args+=("$word") ;; esac
  done
  dir="$out/variant$i"
  echo "== variant $i: $variant -> $dir" >&2
  env "${envs[@]}" "$py" -m mplug2_exporter "${args[@]}" demo --out "$dir" >/dev/null 2>&1
  echo "$variant" >"$dir/variant.txt"
  packages+=("$dir")
done
for dir in "${packages[@]}"; do
  echo "# $dir: $(cat "$dir/variant.txt")"
done
# ONNX Runtime (the Rust server's runtime) replaying the committed goldens: thread counts and
# graph optimization levels select other kernels and fusions.
"$py" -m mplug2_exporter.demo.drift "$root/models/demo" "${packages[@]}" \
  --onnx 1:all --onnx 2:all --onnx 1:disable --onnx 2:basic --onnx 1:extended
