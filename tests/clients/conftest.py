"""Fixtures: one server per test module (stopped at its end), the official openai client and a
plain httpx client on it; a failing test's report carries the server's log."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from harness.server import Server

# Bound of one request (the demo package answers in well under a second).
REQUEST_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    process = Server()
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[openai.OpenAI]:
    """The official client; no retries, so that a refusal is seen as it is."""
    with openai.OpenAI(
        base_url=f"{server.url}/v1", api_key="unused", max_retries=0, timeout=REQUEST_TIMEOUT_S
    ) as openai_client:
        yield openai_client


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT_S) as http_client:
        yield http_client


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    report = yield
    running = getattr(item, "funcargs", {}).get("server")
    if report.failed and isinstance(running, Server):
        report.sections.append(("mplug2-serve log (last lines)", running.log()))
    return report
