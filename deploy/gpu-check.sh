#!/usr/bin/env bash
# GPU provider check: serves each package on the CPU provider, then on CUDA (and on TensorRT when
# its libraries are present), sends the same requests to both, checks that the outputs agree and
# prints throughput side by side. One command, bounded: every server start, request and load run
# has a time limit.
#
#   deploy/gpu-check.sh --package /srv/packages/base        # on a machine with an NVIDIA GPU
#   deploy/gpu-check.sh --cpu-only                           # no GPU: the same logic, CPU vs CPU
#
# Agreement: captions and answers identical (same beam-search tokens), embeddings and scores
# within --tolerance (default 1e-3, absolute) of the CPU's. The demo package (models/demo) is
# always checked first. In --cpu-only mode the candidate is the CPU provider with batching off
# (--max-batch-size 1): it exercises the script's own logic and says nothing about GPUs.
#
# Options: --package DIR (repeatable), --cpu-only, --tolerance X, --requests N (per load point,
# default 32), --concurrency C (default 8), --server-bin PATH (default target/release/mplug2-serve,
# else mplug2-serve on PATH), --ort-library PATH (default: the onnxruntime-gpu wheel's library
# via scripts/fetch-ort.sh, or the CPU wheel's with --cpu-only), --start-timeout S (default 600).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

packages=("$root/models/demo")
cpu_only=0
tolerance=1e-3
requests=32
concurrency=8
server_bin=""
ort_library="${ORT_LIBRARY:-}"
start_timeout=600
while [ $# -gt 0 ]; do
  case "$1" in
    --package) packages+=("$(cd "$2" && pwd)"); shift 2 ;;
    --cpu-only) cpu_only=1; shift ;;
    --tolerance) tolerance="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --server-bin) server_bin="$2"; shift 2 ;;
    --ort-library) ort_library="$2"; shift 2 ;;
    --start-timeout) start_timeout="$2"; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;p}' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ -z "$server_bin" ]; then
  server_bin="$root/target/release/mplug2-serve"
  [ -x "$server_bin" ] || server_bin="$(command -v mplug2-serve || true)"
fi
[ -x "$server_bin" ] || { echo "gpu-check: no mplug2-serve (cargo build --release -p mplug2-server, or --server-bin)" >&2; exit 2; }

# The runs to compare: (name, flags). The reference is always the CPU provider.
candidates=()
if [ "$cpu_only" -eq 1 ]; then
  [ -n "$ort_library" ] || ort_library="$("$root/scripts/fetch-ort.sh")"
  candidates+=("cpu-unbatched|--execution-providers cpu --max-batch-size 1")
else
  if ! nvidia-smi -L; then
    echo "gpu-check: no NVIDIA GPU visible (nvidia-smi -L failed); use --cpu-only" >&2
    exit 2
  fi
  # onnxruntime-gpu's library runs the CPU reference too, so only the provider differs.
  [ -n "$ort_library" ] || ort_library="$(ORT_PACKAGE=onnxruntime-gpu ORT_VERSION=1.31.1 "$root/scripts/fetch-ort.sh")"
  # Only the provider named: a provider that fails to register stops the server instead of
  # silently running on the CPU.
  candidates+=("cuda|--execution-providers cuda")
  if ldconfig -p | grep -q 'libnvinfer.so.10'; then
    candidates+=("tensorrt|--execution-providers tensorrt")
  else
    echo "gpu-check: TensorRT 10 libraries (libnvinfer.so.10) not found: TensorRT skipped"
  fi
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_server NAME PACKAGE FLAGS...: starts it and waits (bounded) until /health/ready is 200.
start_server() {
  local name="$1" package="$2"
  shift 2
  port="$(free_port)"
  "$server_bin" --model-dir "$package" --http-addr "127.0.0.1:$port" --grpc-addr "127.0.0.1:$(free_port)" \
    --ort-library "$ort_library" --tensorrt-cache-dir "$work/trt-cache" "$@" >"$work/$name.log" 2>&1 &
  server_pid=$!
  local deadline=$((SECONDS + start_timeout))
  until curl -fs -o /dev/null "http://127.0.0.1:$port/health/ready"; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "gpu-check: $name server exited; its log:" >&2; tail -n 30 "$work/$name.log" >&2; exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "gpu-check: $name server not ready within ${start_timeout}s" >&2; tail -n 30 "$work/$name.log" >&2; exit 1
    fi
    sleep 0.2
  done
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}

image_b64="$(base64 -w0 "$root/models/demo/goldens/inputs/image_480x270.png")"
write_bodies() {
  printf '{"image":"%s"}' "$image_b64" >"$work/caption.json"
  printf '{"image":"%s","question":"what is the man doing in the video?"}' "$image_b64" >"$work/vqa.json"
  printf '{"input":["a dog runs in the park",{"image":"%s"}]}' "$image_b64" >"$work/embeddings.json"
  printf '{"image":"%s","texts":["a red disc on a gradient","a dog runs in the park"]}' "$image_b64" >"$work/match.json"
  printf '{"image":"%s","labels":["disc","dog","cat"]}' "$image_b64" >"$work/classify.json"
}
tasks=(caption vqa embeddings match classify)

post() { # post TASK OUTFILE
  curl -fsS --max-time 120 -H 'content-type: application/json' \
    --data-binary "@$work/$1.json" "http://127.0.0.1:$port/v1/$1" -o "$2"
}

# outputs RUN: one answer per task, saved for the comparison.
outputs() {
  for task in "${tasks[@]}"; do post "$task" "$work/$1.$task.out"; done
}

# throughput RUN TASK: requests/s of $requests requests, $concurrency at a time (after a warm-up).
throughput() {
  export -f post
  export work port
  # The task is the inner shell's $0, on purpose.
  # shellcheck disable=SC2016
  seq "$concurrency" | xargs -P "$concurrency" -I{} bash -c 'post "$0" /dev/null' "$2"
  local start end
  start="$(date +%s.%N)"
  # shellcheck disable=SC2016
  seq "$requests" | timeout 600 xargs -P "$concurrency" -I{} bash -c 'post "$0" /dev/null' "$2"
  end="$(date +%s.%N)"
  python3 -c "print(f'{$requests / ($end - $start):.2f}')"
}

provider_of() {
  curl -fsS "http://127.0.0.1:$port/info" | python3 -c 'import json, sys; print(json.load(sys.stdin)["provider"])'
}

write_bodies
failed=0
report="$work/report.txt"
for package in "${packages[@]}"; do
  label="$(basename "$package")"
  echo "== $package"
  start_server "$label.cpu" "$package" --execution-providers cpu
  echo "cpu: provider $(provider_of)"
  outputs "$label.cpu"
  declare -A reference_rate=()
  for task in caption embeddings; do reference_rate[$task]="$(throughput "$label.cpu" "$task")"; done
  stop_server
  for candidate in "${candidates[@]}"; do
    name="${candidate%%|*}"
    read -r -a flags <<<"${candidate#*|}"
    start_server "$label.$name" "$package" "${flags[@]}"
    provider="$(provider_of)"
    echo "$name: provider $provider"
    outputs "$label.$name"
    for task in caption embeddings; do
      rate="$(throughput "$label.$name" "$task")"
      printf '%-14s %-10s %-14s cpu %8s req/s  %s %8s req/s  x%s\n' "$label" "$task" "$name" \
        "${reference_rate[$task]}" "$name" "$rate" \
        "$(python3 -c "print(f'{$rate / ${reference_rate[$task]}:.2f}')")" | tee -a "$report"
    done
    stop_server
    python3 - "$work" "$label" "$name" "$tolerance" "${tasks[@]}" <<'PY' || failed=1
import json, sys
work, label, name, tolerance, tasks = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5:]
def load(run, task):
    with open(f"{work}/{label}.{run}.{task}.out") as f:
        return json.load(f)
def numbers(task, answer):
    if task == "embeddings":
        return [x for item in answer["data"] for x in item["embedding"]]
    if task == "match":
        return answer["scores"]
    return [entry["score"] for entry in sorted(answer["labels"], key=lambda e: e["label"])]
bad = []
for task in tasks:
    cpu, other = load("cpu", task), load(name, task)
    if task in ("caption", "vqa"):
        key = "caption" if task == "caption" else "answer"
        verdict = "identical" if cpu[key] == other[key] else f"DIFFERENT: {cpu[key]!r} vs {other[key]!r}"
        if cpu[key] != other[key]:
            bad.append(task)
    else:
        a, b = numbers(task, cpu), numbers(task, other)
        diff = max(abs(x - y) for x, y in zip(a, b, strict=True))
        verdict = f"max |diff| {diff:.2e} (tolerance {tolerance:g})"
        if task == "classify" and [e["label"] for e in cpu["labels"]] != [e["label"] for e in other["labels"]]:
            verdict += ", RANKING DIFFERS"
            bad.append(task)
        elif diff > tolerance:
            bad.append(task)
    print(f"{label:<14} {task:<10} {name:<14} {verdict}")
sys.exit(1 if bad else 0)
PY
    if [ "$cpu_only" -eq 0 ] && [ "$provider" = "cpu" ]; then
      echo "gpu-check: the $name run reports provider cpu" >&2
      failed=1
    fi
  done
done

echo
echo "== throughput (requests/s, $requests requests at concurrency $concurrency, REST/JSON)"
cat "$report"
if [ "$failed" -ne 0 ]; then
  echo "gpu-check: FAILED (outputs differ beyond the tolerance, or the wrong provider ran)" >&2
  exit 1
fi
echo "gpu-check: outputs agree$([ "$cpu_only" -eq 1 ] && echo ' (CPU-only self-test: no GPU was used)')"
