#!/usr/bin/env bash
# Crash-and-restart figures (docs/RELIABILITY.md, "Crash and restart"): builds the release server
# and mplug2-crash, then kills the server with SIGKILL under a mixed load (REST JSON, SSE, gRPC
# streams) KILLS times at random moments, restarts it on the same ports and reports, per kill,
# the time from spawn to ready and what the clients saw. Extra arguments go to mplug2-crash.
# Exits 2 when a client saw a truncated success.
set -euo pipefail
cd "$(dirname "$0")/.."
ORT_DYLIB_PATH=$(scripts/fetch-ort.sh)
export ORT_DYLIB_PATH
cargo build --release -p mplug2-server --bin mplug2-serve -p mplug2-bench --bin mplug2-crash
target=${CARGO_TARGET_DIR:-target}
"$target/release/mplug2-crash" --kills "${KILLS:-5}" --server-bin "$target/release/mplug2-serve" "$@"
