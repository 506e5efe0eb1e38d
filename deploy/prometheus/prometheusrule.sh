#!/usr/bin/env bash
# Prints deploy/prometheus/rules/mplug2.yml as a Prometheus Operator PrometheusRule, so that the
# same rules serve compose and Kubernetes:
#   deploy/prometheus/prometheusrule.sh | kubectl apply -n mplug2 -f -
# Add the label your Prometheus selects rules by (kube-prometheus-stack: release=<name>) with
# PROMETHEUS_RULE_LABELS="release: kube-prometheus-stack".
set -euo pipefail
rules="$(dirname "$0")/rules/mplug2.yml"
printf 'apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: mplug2-serve\n'
printf '  labels:\n    app.kubernetes.io/name: mplug2-serve\n'
if [ -n "${PROMETHEUS_RULE_LABELS:-}" ]; then printf '    %s\n' "$PROMETHEUS_RULE_LABELS"; fi
printf 'spec:\n'
sed -e '/^#/d' -e 's/^/  /' "$rules"
