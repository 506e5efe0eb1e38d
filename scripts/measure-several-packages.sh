#!/usr/bin/env bash
# Resident memory of mplug2-serve serving the given packages: at ready, and after one caption,
# VQA and embeddings request per package (docs/real-checkpoints.md, "Several packages").
# Usage: scripts/measure-several-packages.sh PACKAGE_DIR... (BIN=path/to/mplug2-serve to override)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 PACKAGE_DIR..." >&2; exit 2; }
ORT_DYLIB_PATH=$(scripts/fetch-ort.sh)
export ORT_DYLIB_PATH
BIN=${BIN:-target/release/mplug2-serve}
PORT=${PORT:-18600}
IMG=$(base64 -w0 models/demo/goldens/inputs/image_480x270.png)
LOG=$(mktemp)

args=()
names=()
for dir in "$@"; do
  args+=(--model-dir "$dir")
  names+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["model"]["name"])' "$dir/manifest.json")")
done

start=$(date +%s)
"$BIN" "${args[@]}" --http-addr "127.0.0.1:$PORT" --grpc-addr "127.0.0.1:$((PORT + 1))" >"$LOG" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 1800); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "localhost:$PORT/health/ready")" = 200 ] && break
  kill -0 $pid 2>/dev/null || { echo "the server exited:" >&2; tail -5 "$LOG" >&2; exit 1; }
  sleep 1
done
ready=$(($(date +%s) - start))
mib() { awk -v key="$1:" '$1 == key { printf "%.0f", $2 / 1024 }' "/proc/$pid/status"; }
rss_ready=$(mib VmRSS)

post() { curl -sf "localhost:$PORT$1" -H 'content-type: application/json' -d "$2" >/dev/null; }
for name in "${names[@]}"; do
  post /v1/caption "{\"image\":\"$IMG\",\"model\":\"$name\"}"
  post /v1/vqa "{\"image\":\"$IMG\",\"question\":\"what is it?\",\"model\":\"$name\"}"
  post /v1/embeddings "{\"input\":[\"a dog\",{\"image\":\"$IMG\"}],\"model\":\"$name\"}"
done
weights=$(curl -s "localhost:$PORT/info" |
  python3 -c 'import json,sys; print(sum(m["weight_bytes"] for m in json.load(sys.stdin)["models"]))')
echo "packages: ${names[*]}"
echo "weights loaded: $weights bytes; ready after ${ready} s"
echo "RSS at ready: ${rss_ready} MiB; after a caption, VQA and embeddings request each: $(mib VmRSS) MiB; peak $(mib VmHWM) MiB"
