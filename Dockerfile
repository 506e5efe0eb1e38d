# syntax=docker/dockerfile:1
# mplug2-serve, CPU image (the default). The CUDA / TensorRT image is deploy/Dockerfile.cuda.
#
#   docker build -t mplug2-serve:cpu .
#   docker run --rm -p 8080:8080 -p 50051:50051 mplug2-serve:cpu              # the baked-in demo package
#   docker run --rm -p 8080:8080 -v /srv/pkg:/models:ro -e MODEL_DIR=/models mplug2-serve:cpu
#
# Stages: chef (cargo-chef), planner (dependency recipe), builder (dependencies cached in their own
# layer, then the workspace), ort (ONNX Runtime from the official PyPI wheel), runtime (slim Debian).

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm
ARG CARGO_CHEF_VERSION=0.1.78
ARG ORT_VERSION=1.32.0

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
ARG CARGO_CHEF_VERSION
# FFmpeg headers and libclang for the video decoder's bindings (ffmpeg-next / bindgen).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      pkg-config clang libclang-dev \
      libavcodec-dev libavformat-dev libavutil-dev libswscale-dev \
 && rm -rf /var/lib/apt/lists/* \
 && cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}"
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# Only the dependency graph: this layer is rebuilt when Cargo.toml / Cargo.lock change, not the code.
RUN cargo chef cook --release --recipe-path recipe.json -p mplug2-server --bin mplug2-serve
COPY . .
RUN cargo build --release -p mplug2-server --bin mplug2-serve \
 && install -D target/release/mplug2-serve /out/mplug2-serve

# ONNX Runtime's shared library, taken from the official wheel by the same script `make run` uses.
FROM python:3.11-slim-${DEBIAN_RELEASE} AS ort
ARG ORT_VERSION
WORKDIR /src
COPY scripts/fetch-ort.sh scripts/fetch-ort.sh
RUN ORT_VERSION="${ORT_VERSION}" scripts/fetch-ort.sh \
 && mkdir -p /out \
 && cp -a ".ort/onnxruntime-${ORT_VERSION}/onnxruntime/capi/." /out/

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG ORT_VERSION
# FFmpeg shared libraries (bookworm: FFmpeg 5.1) and curl for the HEALTHCHECK.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libavcodec59 libavformat59 libavutil57 libswscale6 curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/mplug2 --create-home mplug2 \
 && mkdir -p /models /var/cache/mplug2 \
 && chown mplug2:mplug2 /models /var/cache/mplug2
COPY --from=ort /out/ /opt/onnxruntime/lib/
COPY --from=builder /out/mplug2-serve /usr/local/bin/mplug2-serve
# The demo package (17 MB, random weights): the image serves something with no volume at all.
COPY models/demo /opt/mplug2/models/demo

# Every flag is also an environment variable (README flag table); these are the image's defaults.
ENV ORT_LIBRARY=/opt/onnxruntime/lib/libonnxruntime.so.${ORT_VERSION} \
    MODEL_DIR=/opt/mplug2/models/demo \
    HTTP_ADDR=0.0.0.0:8080 \
    GRPC_ADDR=0.0.0.0:50051 \
    EXECUTION_PROVIDERS=cpu \
    TENSORRT_CACHE_DIR=/var/cache/mplug2/trt \
    LOG_FORMAT=json \
    RUST_LOG=info

USER 10001:10001
WORKDIR /var/lib/mplug2
EXPOSE 8080 50051
# Real packages are mounted here (read-only is fine: the server only reads a package).
VOLUME ["/models"]
# Liveness only: readiness (/health/ready) waits for warm-up, which can take minutes on big packages.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["sh", "-c", "curl -fsS -o /dev/null \"http://127.0.0.1:${HTTP_ADDR##*:}/health/live\""]
ENTRYPOINT ["mplug2-serve"]
