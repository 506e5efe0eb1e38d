#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for FUZZ_SECONDS each, one after another, at low
# priority. Each target's working corpus starts from its committed seeds (fuzz/seeds/<target>)
# and lives in fuzz/corpus/<target> (ignored by git); crashes land in fuzz/artifacts/<target>;
# libFuzzer's output goes to fuzz/logs/<target>.log. Exits non-zero if any target crashed.
set -uo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-600}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(rest_json rest_multipart image video manifest)
fi
mkdir -p logs
# What fuzzing needs, installed when missing: the nightly toolchain (rustup) and cargo-fuzz (crates.io).
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal || exit 1
cargo +nightly fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked || exit 1
# -a: debug assertions and overflow checks, so arithmetic overflows are findings too.
cargo +nightly fuzz build -a || exit 1
failed=()
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    echo "fuzzing $target for ${seconds}s (log: fuzz/logs/$target.log)"
    if ! nice -n 10 cargo +nightly fuzz run -a "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 -print_final_stats=1 \
        >"logs/$target.log" 2>&1; then
        echo "$target: crashed, see fuzz/logs/$target.log and fuzz/artifacts/$target/"
        failed+=("$target")
    fi
    grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "logs/$target.log" | tail -2
done
[ ${#failed[@]} -eq 0 ] || { echo "crashed: ${failed[*]}"; exit 1; }
