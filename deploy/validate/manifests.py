"""Checks the rendered Kustomize overlays for what the schemas cannot see, and splits them for the
schema validators.

    python manifests.py OUT_DIR NAME=RENDERED.yaml ...

Writes OUT_DIR/core.yaml (built-in kinds, for kubernetes-validate) and OUT_DIR/crds.json (custom
resources, for crds.mjs). Exits 1 naming every broken rule: probes on the server's health routes,
the drain fitting the termination grace period, ports and selectors that line up, one autoscaler,
GPU resources only with the CUDA image.
"""

import json
import sys
from pathlib import Path

import yaml

CUSTOM_GROUPS = ("monitoring.coreos.com/", "keda.sh/")
SERVER = "mplug2-serve"


def main(argv: list[str]) -> int:
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    core, custom, problems = [], [], []
    for spec in argv[2:]:
        name, path = spec.split("=", 1)
        resources = [r for r in yaml.safe_load_all(Path(path).read_text()) if r]
        problems += [f"{name}: {p}" for p in check_overlay(resources)]
        for resource in resources:
            if resource["apiVersion"].startswith(CUSTOM_GROUPS):
                custom.append({"source": name, "resource": resource})
            else:
                core.append(resource)
    (out / "core.yaml").write_text(yaml.safe_dump_all(core, sort_keys=False))
    (out / "crds.json").write_text(json.dumps(custom, indent=1))
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    print(f"{len(argv) - 2} overlays: {len(core)} built-in and {len(custom)} custom resources")
    return 1 if problems else 0


def check_overlay(resources: list[dict]) -> list[str]:
    by_kind: dict[str, list[dict]] = {}
    for resource in resources:
        by_kind.setdefault(resource["kind"], []).append(resource)
    deployments = by_kind.get("Deployment", [])
    if [d["metadata"]["name"] for d in deployments] != [SERVER]:
        return [f"expected one Deployment {SERVER}, got {len(deployments)}"]
    deployment = deployments[0]
    pod = deployment["spec"]["template"]
    problems = check_pod(
        pod["spec"], {r["metadata"]["name"] for r in by_kind.get("PersistentVolumeClaim", [])}
    )
    pod_labels = pod["metadata"].get("labels", {})
    if not selects(deployment["spec"]["selector"].get("matchLabels", {}), pod_labels):
        problems.append("the Deployment's selector does not select its own pods")
    container = server_container(pod["spec"])
    port_names = {p["name"] for p in container.get("ports", [])}
    services = by_kind.get("Service", [])
    for service in services:
        if not selects(service["spec"].get("selector", {}), pod_labels):
            problems.append(f"Service {service['metadata']['name']} does not select the pods")
        for port in service["spec"]["ports"]:
            if port.get("targetPort") not in port_names:
                problems.append(
                    f"Service port {port['name']} targets {port.get('targetPort')}, not a container port"
                )
        if {p["name"] for p in service["spec"]["ports"]} != {"http", "grpc"}:
            problems.append("the Service must expose both http and grpc")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        if not selects(pdb["spec"]["selector"].get("matchLabels", {}), pod_labels):
            problems.append("the PodDisruptionBudget does not select the pods")
    autoscalers = by_kind.get("HorizontalPodAutoscaler", []) + by_kind.get("ScaledObject", [])
    if len(autoscalers) != 1:
        problems.append(f"expected one autoscaler (HPA or KEDA ScaledObject), got {len(autoscalers)}")
    for autoscaler in autoscalers:
        target = autoscaler["spec"]["scaleTargetRef"]
        if target.get("name") != SERVER or target.get("kind", "Deployment") != "Deployment":
            problems.append(f"{autoscaler['kind']} scales {target}, not the Deployment")
    for monitor in by_kind.get("ServiceMonitor", []):
        matched = [
            s
            for s in services
            if selects(monitor["spec"]["selector"].get("matchLabels", {}), s["metadata"].get("labels", {}))
        ]
        if not matched:
            problems.append("the ServiceMonitor selects no Service")
        for endpoint in monitor["spec"]["endpoints"]:
            if not any(endpoint.get("port") in {p["name"] for p in s["spec"]["ports"]} for s in matched):
                problems.append(f"ServiceMonitor endpoint port {endpoint.get('port')} is not a Service port")
    return problems


def check_pod(pod: dict, claims: set[str]) -> list[str]:
    problems = []
    container = server_container(pod)
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    for port_name, variable in (("http", "HTTP_ADDR"), ("grpc", "GRPC_ADDR")):
        address = env.get(variable) or ""
        if port_name not in ports or not address.endswith(f":{ports[port_name]}"):
            problems.append(
                f"{variable}={address!r} does not listen on the {port_name} container port "
                f"{ports.get(port_name)}"
            )
    for probe, path in (("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready")):
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") != "http":
            problems.append(f"{probe} must GET {path} on port http, not {get}")
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    sleep = int(pre_stop[1]) if len(pre_stop) == 2 and pre_stop[0] == "sleep" else None
    drain = int(env.get("SHUTDOWN_GRACE_PERIOD_S") or 30)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if sleep is None:
        problems.append(f"preStop must be ['sleep', N], not {pre_stop}")
    elif grace <= sleep + drain:
        problems.append(
            f"terminationGracePeriodSeconds {grace} must exceed preStop sleep {sleep} "
            f"+ SHUTDOWN_GRACE_PERIOD_S {drain}"
        )
    requests = container.get("resources", {}).get("requests", {})
    if "cpu" not in requests or "memory" not in requests:
        problems.append("cpu and memory requests are needed (the HPA's CPU utilisation is relative to them)")
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    if env.get("MODEL_DIR") not in mounts:
        problems.append(f"MODEL_DIR {env.get('MODEL_DIR')} is not a volume mount")
    for volume in pod.get("volumes", []):
        claim = volume.get("persistentVolumeClaim", {}).get("claimName")
        if claim and claim not in claims:
            problems.append(f"volume {volume['name']} uses PVC {claim}, which is not rendered")
    gpus = container.get("resources", {}).get("limits", {}).get("nvidia.com/gpu")
    providers = env.get("EXECUTION_PROVIDERS") or "cpu"
    cuda_image = container["image"].endswith(":cuda") or container["image"].endswith(":tensorrt")
    if bool(gpus) != cuda_image or bool(gpus) != ("cuda" in providers or "tensorrt" in providers):
        problems.append(
            f"GPU limit {gpus}, image {container['image']} and EXECUTION_PROVIDERS {providers} disagree"
        )
    return problems


def server_container(pod: dict) -> dict:
    return next(c for c in pod["containers"] if c["name"] == SERVER)


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


if __name__ == "__main__":
    sys.exit(main(sys.argv))
