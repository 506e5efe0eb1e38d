"""One `mplug2-serve` process with the demo package on free loopback ports.

The Python twin of `tests/src/server.rs`: start the built binary, poll `/health/ready` within a
bound (never a blind sleep), keep its log in a file, and stop it at the end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from harness.paths import REPO_ROOT, demo_package

# How long the server may take to become ready (it is ready in about a second when idle; the
# bound leaves room for a machine busy compiling).
START_BOUND_S = 120.0
# How long a graceful stop (SIGTERM) may take before the process is killed.
STOP_BOUND_S = 30.0
POLL_INTERVAL_S = 0.02


class ServerError(RuntimeError):
    """The server did not come up; the message carries its log."""


def binary() -> Path:
    """`MPLUG2_SERVE_BIN`, else the debug build of this workspace."""
    path = Path(os.environ.get("MPLUG2_SERVE_BIN", REPO_ROOT / "target/debug/mplug2-serve"))
    if not path.is_file():
        raise ServerError(
            f"{path} not found: build it with `cargo build -p mplug2-server --bin mplug2-serve` "
            "(`make test-clients` does) or set MPLUG2_SERVE_BIN"
        )
    return path


def ort_library() -> str:
    """`ORT_DYLIB_PATH`, else the library `scripts/fetch-ort.sh` fetches (and prints)."""
    if path := os.environ.get("ORT_DYLIB_PATH"):
        return path
    fetched = subprocess.run(
        [str(REPO_ROOT / "scripts/fetch-ort.sh")], check=True, capture_output=True, text=True
    )
    return fetched.stdout.strip()


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A running `mplug2-serve`; `url` is its REST base (`http://127.0.0.1:PORT`)."""

    def __init__(self, *args: str) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="mplug2-clients-")
        self.log_path = Path(self._dir.name) / "server.log"
        http_port, grpc_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{http_port}"
        env = {k: v for k, v in os.environ.items() if k not in ("API_KEY", "API_KEY_FILE")}
        env |= {"ORT_DYLIB_PATH": ort_library(), "RUST_LOG": "info,ort=warn,mplug2_server=debug"}
        command = [
            str(binary()),
            "--model-dir",
            str(demo_package()),
            "--http-addr",
            f"127.0.0.1:{http_port}",
            "--grpc-addr",
            f"127.0.0.1:{grpc_port}",
            *args,
        ]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command, cwd=self._dir.name, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, bound_s: float = START_BOUND_S) -> None:
        """Polls `/health/ready` until it answers 200; fails with the log past `bound_s` or if
        the process exits."""
        deadline = time.monotonic() + bound_s
        with httpx.Client(timeout=2.0) as client:
            while True:
                try:
                    if client.get(f"{self.url}/health/ready").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if (code := self._process.poll()) is not None:
                    raise ServerError(f"mplug2-serve exited with {code}; log:\n{self.log()}")
                if time.monotonic() > deadline:
                    raise ServerError(f"not ready within {bound_s} s; log:\n{self.log()}")
                time.sleep(POLL_INTERVAL_S)

    def log(self, last_lines: int = 300) -> str:
        """The last lines of the server's output."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        return "\n".join(lines[-last_lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `STOP_BOUND_S`."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=STOP_BOUND_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._dir.cleanup()
