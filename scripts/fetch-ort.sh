#!/usr/bin/env bash
# Fetches the ONNX Runtime shared library from the official PyPI wheel into .ort/ (idempotent).
# Prints the library path. ORT_VERSION picks the wheel; ORT_PACKAGE=onnxruntime-gpu for CUDA/TensorRT.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${ORT_VERSION:-1.32.0}"
package="${ORT_PACKAGE:-onnxruntime}"
dest="$root/.ort/$package-$version"
lib="$dest/onnxruntime/capi/libonnxruntime.so.$version"
if [ ! -f "$lib" ]; then
  mkdir -p "$dest/whl"
  python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --python-version 3.11 --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    "$package==$version" -d "$dest/whl" >&2
  python3 - "$dest" <<'PY'
import sys, zipfile, glob
dest = sys.argv[1]
whl = glob.glob(f"{dest}/whl/*.whl")[0]
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        if name.startswith("onnxruntime/capi/lib") and ".so" in name:
            z.extract(name, dest)
PY
fi
[ -f "$lib" ] || { echo "fetch-ort: $lib not found after extraction" >&2; exit 1; }
echo "$lib"
