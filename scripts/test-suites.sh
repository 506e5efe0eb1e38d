#!/usr/bin/env bash
# `make test`: runs every suite named on the command line (make targets) in turn, each one even
# when an earlier one failed, then prints which passed and how long each took; exits non-zero if
# any failed. Starts with the CPU and its ISA flags, since float goldens are checked within
# tolerances that depend on the kernels a CPU selects (docs/tolerances.md).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
make_cmd="${MAKE:-make}"

# The flags that decide which BLAS / ONNX Runtime / ATen kernels run.
ISA_FLAGS="sse4_2 avx fma f16c avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16
avx512_fp16 avx_vnni amx_tile amx_int8 amx_bf16"

cpu_report() {
  local model flags have="" lack=""
  if [ -r /proc/cpuinfo ]; then
    model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
    flags=" $(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo | head -n1) "
  else
    model="$(sysctl -n machdep.cpu.brand_string 2>/dev/null || uname -m)"
    flags=""
  fi
  for flag in $ISA_FLAGS; do
    case "$flags" in *" $flag "*) have="$have $flag" ;; *) lack="$lack $flag" ;; esac
  done
  echo "== CPU: ${model:-unknown} ($(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') logical CPUs)"
  echo "== ISA flags present:${have:- none}"
  echo "== ISA flags absent: ${lack:- none}"
  local var
  for var in MKL_ENABLE_INSTRUCTIONS ATEN_CPU_CAPABILITY OMP_NUM_THREADS ONEDNN_MAX_CPU_ISA; do
    [ -n "${!var:-}" ] && echo "== $var=${!var}"
  done
  return 0
}

cpu_report
names=() results=() durations=()
failed=0
for suite in "$@"; do
  echo
  echo "== make $suite"
  start=$SECONDS
  if "$make_cmd" --no-print-directory "$suite"; then
    result=passed
  else
    result=FAILED
    failed=1
  fi
  names+=("$suite") results+=("$result") durations+=($((SECONDS - start)))
done

echo
echo "== summary"
cpu_report | head -n1
for i in "${!names[@]}"; do
  printf '   %-16s %-7s %4d min %02d s\n' "${names[$i]}" "${results[$i]}" \
    $((durations[i] / 60)) $((durations[i] % 60))
done
if [ "$failed" -ne 0 ]; then
  echo "== make test: FAILED"
  exit 1
fi
echo "== make test: all suites passed"
