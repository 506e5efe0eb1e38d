# mplug2-serve: the two commands of the README (`make run`, `make test`) and the steps they use.
# Needs a Rust toolchain; both commands install the rest themselves: the system packages
# (scripts/system-packages.sh, on Debian/Ubuntu: FFmpeg dev libraries, clang, pkg-config, python3;
# `make test` also chromium and prometheus), the ONNX Runtime library (scripts/fetch-ort.sh) and
# the Python test environments.

CARGO ?= cargo
# Flags for `make run`, e.g. `make run ARGS="--max-batch-size 8"`.
ARGS ?=
# The ONNX Runtime library; scripts/fetch-ort.sh downloads it from PyPI into .ort/ once.
ORT = $(shell scripts/fetch-ort.sh)

.PHONY: run build test test-rust test-exporter test-deploy test-clients lint bench bench-suite soak fuzz ort \
	system-packages system-packages-tests toolchain demo-int8 clean

## Build (release) and serve the committed demo package on :8080 (REST) and :50051 (gRPC); once
## it is ready, scripts/serve.sh prints the playground's and the docs' URLs and a curl to try.
run: system-packages ort build
	ORT_DYLIB_PATH=$(ORT) scripts/serve.sh target/release/mplug2-serve $(ARGS)

build: system-packages toolchain
	$(CARGO) build --release -p mplug2-server --bin mplug2-serve

## The system packages the build needs (`-tests`: and the tests), installed when missing (as root,
## or with passwordless sudo; otherwise it stops with the command to run). A no-op when present.
system-packages:
	@scripts/system-packages.sh
system-packages-tests:
	@scripts/system-packages.sh --tests

toolchain:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (1.92+) with" \
		"curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh" >&2; exit 1; }

## Everything CI checks: formatting and lints, the Rust tests (model, server, end-to-end against
## the real binary), the real clients against the binary (openai, SSE, schemathesis: tests/clients),
## the exporter's pytest and the deployment files. Prints the CPU and its ISA
## flags first; runs every suite even after one fails, then a summary (scripts/test-suites.sh).
## Installs the missing system packages first, the test-only ones too (chromium, prometheus).
TEST_SUITES = lint test-rust test-clients test-exporter test-deploy
test: system-packages-tests toolchain
	@MAKE="$(MAKE)" scripts/test-suites.sh $(TEST_SUITES)

test-rust: ort demo-int8 models/demo-vqa/manifest.json
	ORT_DYLIB_PATH=$(ORT) $(CARGO) test --workspace

## A second demo package (other random weights, fine-tuned for VQA, its own PyTorch goldens) for
## the several-packages tests; made by the exporter, not committed (~2 min). Seed 65: its smallest
## golden beam margin is 8.4e-3, far above cross-machine noise (docs/tolerances.md).
models/demo-vqa/manifest.json: exporter/pyproject.toml exporter/src/mplug2_exporter/demo/build.py
	$(MAKE) -C exporter venv
	rm -rf models/demo-vqa
	exporter/.venv/bin/python -m mplug2_exporter demo --out models/demo-vqa --seed 65 \
		--name mplug2-demo-vqa --finetuned-for vqa

test-exporter:
	$(MAKE) -C exporter test

## deploy/ without a container engine or a cluster (deploy/validate/validate.sh: promtool, hadolint,
## compose schema, Kustomize + Kubernetes/CRD schemas), then the GPU check's logic in its CPU-only
## mode. The dashboard-against-/metrics check is an end-to-end test (tests/tests/e2e/deploy_metrics.rs).
test-deploy: ort
	deploy/validate/validate.sh
	$(CARGO) build --workspace --bin mplug2-serve
	deploy/gpu-check.sh --cpu-only --server-bin target/debug/mplug2-serve --ort-library $(ORT) \
		--requests 16 --concurrency 4

## The client-side end-to-end suite (tests/clients/README.md): the official openai client, httpx,
## schemathesis and the playground in Chromium (Playwright) against the debug binary with the demo
## package, and scripts/system-packages.sh against a fake Debian. Its Python environment is
## built on first use (and again when requirements.txt changes). `PYTEST_ARGS=-k stream` narrows it.
CLIENTS_VENV = tests/clients/.venv
PYTEST_ARGS ?=
test-clients: ort $(CLIENTS_VENV)/.installed
	$(CARGO) build -p mplug2-server --bin mplug2-serve
	cd tests/clients && .venv/bin/ruff check . && .venv/bin/ruff format --check .
	cd tests/clients && ORT_DYLIB_PATH=$(ORT) MPLUG2_SERVE_BIN=$(CURDIR)/target/debug/mplug2-serve \
		.venv/bin/python -m pytest $(PYTEST_ARGS)

$(CLIENTS_VENV)/.installed: tests/clients/requirements.txt
	python3 -m venv $(CLIENTS_VENV)
	$(CLIENTS_VENV)/bin/pip install --quiet -r tests/clients/requirements.txt
	touch $@

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Load generator: throughput and p50/p90/p99 with batching on and off (see docs/benchmarks.md).
bench: ort build
	ORT_DYLIB_PATH=$(ORT) $(CARGO) run --release -p mplug2-bench -- $(ARGS)

## The performance suite of docs/PERFORMANCE.md: ours against the PyTorch eager reference and
## against max_batch_size=1, MFU, cache, memory, on fp32 and int8 packages (issues 7 and 13);
## the random-weight base/large packages and their int8 packages are made when missing (once:
## tens of minutes); ~35 min (ARGS="--quick": demo and demo-int8 only, ~4 min).
bench-suite: system-packages toolchain ort
	$(MAKE) -C exporter venv-perf
	$(CARGO) build --release -p mplug2-server --bin mplug2-serve -p mplug2-bench --bin mplug2-suite
	ORT_DYLIB_PATH=$(ORT) target/release/mplug2-suite $(ARGS)

## The soak of docs/RELIABILITY.md: the release server on the demo package under a mixed open-loop
## load at ~70% of its measured capacity for 20 minutes (`ARGS="--minutes 5"`), sampled every 10 s;
## writes bench/results-soak/soak.{md,json} and exits non-zero on a failed verdict. Not in `make test`.
soak: system-packages toolchain ort
	$(CARGO) build --release -p mplug2-server --bin mplug2-serve -p mplug2-bench --bin mplug2-soak
	ORT_DYLIB_PATH=$(ORT) target/release/mplug2-soak $(ARGS)

## Every cargo-fuzz target for FUZZ_SECONDS each, one after another, at low priority (needs the
## nightly toolchain and `cargo install cargo-fuzz`; see docs/fuzzing.md). `make fuzz
## FUZZ_TARGETS=image` runs one.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_TARGETS)

ort:
	@scripts/fetch-ort.sh >/dev/null

## The demo package quantized to int8 in models/demo-int8 (ignored; the model tests run it).
demo-int8:
	$(MAKE) -C exporter demo-int8

clean:
	$(CARGO) clean
