"""manifests.py finds each broken rule in an otherwise good rendered overlay (the cpu overlay that
validate.sh renders into MPLUG2_RENDERED, default .out/cpu.yaml)."""

import copy
import os
from pathlib import Path

import pytest
import yaml

from manifests import check_overlay

RENDERED = Path(os.environ.get("MPLUG2_RENDERED", Path(__file__).parent / ".out" / "cpu.yaml"))


@pytest.fixture
def overlay() -> list[dict]:
    return [r for r in yaml.safe_load_all(RENDERED.read_text()) if r]


def of_kind(resources: list[dict], kind: str) -> dict:
    return next(r for r in resources if r["kind"] == kind)


def container(resources: list[dict]) -> dict:
    return of_kind(resources, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def test_the_rendered_overlay_is_clean(overlay):
    assert check_overlay(overlay) == []


def test_a_grace_period_shorter_than_the_drain_is_refused(overlay):
    of_kind(overlay, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 30
    [problem] = check_overlay(overlay)
    assert "terminationGracePeriodSeconds 30 must exceed preStop sleep 5 + SHUTDOWN_GRACE_PERIOD_S 30" in (
        problem
    )


def test_readiness_must_probe_the_ready_route(overlay):
    container(overlay)["readinessProbe"]["httpGet"]["path"] = "/health/live"
    [problem] = check_overlay(overlay)
    assert problem.startswith("readinessProbe must GET /health/ready")


def test_a_gpu_needs_the_cuda_image_and_provider(overlay):
    container(overlay)["resources"]["limits"]["nvidia.com/gpu"] = "1"
    [problem] = check_overlay(overlay)
    assert "disagree" in problem and "EXECUTION_PROVIDERS cpu" in problem


def test_a_service_that_misses_the_pods_is_refused(overlay):
    of_kind(overlay, "Service")["spec"]["selector"] = {"app": "other"}
    assert check_overlay(overlay) == ["Service mplug2-serve does not select the pods"]


def test_two_autoscalers_are_refused(overlay):
    hpa = copy.deepcopy(of_kind(overlay, "HorizontalPodAutoscaler"))
    overlay.append(hpa)
    assert check_overlay(overlay) == ["expected one autoscaler (HPA or KEDA ScaledObject), got 2"]


def test_the_listen_address_must_match_the_container_port(overlay):
    env = container(overlay)["env"]
    next(e for e in env if e["name"] == "HTTP_ADDR")["value"] = "0.0.0.0:9000"
    [problem] = check_overlay(overlay)
    assert "HTTP_ADDR='0.0.0.0:9000' does not listen on the http container port 8080" in problem
