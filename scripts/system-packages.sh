#!/usr/bin/env bash
# The system packages the build needs (and, with --tests, those `make test` needs too): the one
# list, used by `make run`, `make test` and .ci/run. On Debian/Ubuntu it installs the ones missing
# (as root, or through `sudo` when that needs no password); present ones are left alone, so a
# second run installs nothing. Elsewhere it prints the list and goes on.
#
#   scripts/system-packages.sh            # build and `make run`
#   scripts/system-packages.sh --tests    # and what `make test` needs
#   scripts/system-packages.sh --list [--tests]   # print the list, install nothing
set -euo pipefail

# FFmpeg libraries + clang + pkg-config for the video decoder's bindings (ffmpeg-next / bindgen);
# python3 with pip and venv for the ONNX Runtime wheel (scripts/fetch-ort.sh) and the Python test
# environments; curl for scripts/serve.sh and .ci/run's rustup.
BUILD_PACKAGES=(
  build-essential pkg-config clang libclang-dev
  ffmpeg libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  python3 python3-venv python3-pip
  ca-certificates curl
)
# prometheus: promtool, for the metrics end-to-end test and `make test-deploy`; chromium: the
# browser the playground test drives (tests/clients/test_playground.py, through Playwright).
TEST_PACKAGES=(prometheus chromium)

packages=("${BUILD_PACKAGES[@]}")
list_only=0
for arg in "$@"; do
  case "$arg" in
    --tests) packages+=("${TEST_PACKAGES[@]}") ;;
    --list) list_only=1 ;;
    *) echo "system-packages: unknown argument $arg (--tests, --list)" >&2; exit 2 ;;
  esac
done

if [ "$list_only" -eq 1 ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  echo "system-packages: not Debian/Ubuntu; install the equivalents of: ${packages[*]}" >&2
  exit 0
fi

missing=()
for package in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)"
  [ "$status" = installed ] || missing+=("$package")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "system-packages: all ${#packages[@]} present, nothing to install"
  exit 0
fi

install=(apt-get install -y -q --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "system-packages: missing ${missing[*]}; install them with:" >&2
  echo "  sudo apt-get update && sudo ${install[*]}" >&2
  exit 1
fi

echo "system-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive "${install[@]}"
