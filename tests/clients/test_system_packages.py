"""`scripts/system-packages.sh`, the one list of system packages `make run`, `make test` and
.ci/run install, against a fake Debian (`dpkg-query`, `apt-get`, `id` and `sudo` shims first on
the PATH): it installs only what is missing, a second run installs nothing, it goes through
`sudo -n` when it is not root, and stops with the one command to run when it cannot. (.ci/run
runs it for real twice.) Not a client test: it lives here for the Python environment and ruff."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts/system-packages.sh"
INSTALL = "apt-get install -y -q --no-install-recommends"

# dpkg-query -W -f=… PACKAGE: "installed" when PACKAGE is a line of $FAKE_DPKG.
SHIMS = {
    "dpkg-query": (
        'for last; do :; done\ngrep -qx "$last" "$FAKE_DPKG" || exit 1\nprintf installed\n'
    ),
    "apt-get": (
        'echo "apt-get $*" >> "$FAKE_LOG"\n'
        '[ "$1" = install ] || exit 0\nshift\n'
        'for arg; do case "$arg" in -*) ;; *) echo "$arg" >> "$FAKE_DPKG" ;; esac; done\n'
    ),
    "id": 'echo "$FAKE_UID"\n',
    "sudo": (
        '[ "$FAKE_SUDO" = passwordless ] || { echo "sudo: a password is required" >&2; exit 1; }\n'
        'echo "sudo $*" >> "$FAKE_LOG"\n[ "$1" = -n ] && shift\nexec "$@"\n'
    ),
}


def listed(*args: str) -> list[str]:
    """The script's package list (`--list`)."""
    out = subprocess.run([SCRIPT, "--list", *args], check=True, capture_output=True, text=True)
    return out.stdout.split()


class FakeDebian:
    """A machine with `installed` packages, where apt-get "installs" by adding to that list."""

    def __init__(self, root: Path, installed: list[str]) -> None:
        shims = root / "bin"
        shims.mkdir()
        for name, body in SHIMS.items():
            (shims / name).write_text(f"#!/bin/sh\n{body}")
            (shims / name).chmod(0o755)
        self.dpkg, self.log = root / "dpkg", root / "log"
        self.dpkg.write_text("".join(f"{package}\n" for package in installed))
        self.log.write_text("")
        self.path = f"{shims}:{os.environ['PATH']}"

    def run(self, *args: str, uid: int = 0, sudo: str = "none") -> subprocess.CompletedProcess:
        env = os.environ | {
            "PATH": self.path,
            "FAKE_DPKG": str(self.dpkg),
            "FAKE_LOG": str(self.log),
            "FAKE_UID": str(uid),
            "FAKE_SUDO": sudo,
        }
        return subprocess.run(
            [SCRIPT, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()


@pytest.fixture
def machine(tmp_path: Path) -> Callable[[list[str]], FakeDebian]:
    return lambda installed: FakeDebian(tmp_path, installed)


def test_a_fresh_machine_gets_the_list_and_a_second_run_installs_nothing(
    machine: Callable[[list[str]], FakeDebian],
) -> None:
    fake = machine([])
    everything = listed("--tests")
    first = fake.run("--tests")
    assert first.returncode == 0, first.stderr
    assert f"installing {' '.join(everything)}" in first.stdout
    assert fake.calls() == ["apt-get update -q", f"{INSTALL} {' '.join(everything)}"]

    second = fake.run("--tests")
    assert second.returncode == 0, second.stderr
    assert second.stdout == f"system-packages: all {len(everything)} present, nothing to install\n"
    assert len(fake.calls()) == 2, "the second run called apt-get"


def test_only_missing_packages_are_installed_and_build_only_skips_the_test_ones(
    machine: Callable[[list[str]], FakeDebian],
) -> None:
    build = listed()
    assert set(build) < set(listed("--tests")), "--tests adds to the build's list"
    fake = machine(build[1:])
    assert fake.run().returncode == 0
    assert fake.calls() == ["apt-get update -q", f"{INSTALL} {build[0]}"]
    assert "nothing to install" in fake.run().stdout


def test_not_root_it_uses_passwordless_sudo(machine: Callable[[list[str]], FakeDebian]) -> None:
    build = listed()
    fake = machine(build[:-1])
    done = fake.run(uid=1000, sudo="passwordless")
    assert done.returncode == 0, done.stderr
    calls = fake.calls()
    assert f"{INSTALL} {build[-1]}" in calls
    assert any(call.startswith("sudo -n ") and INSTALL in call for call in calls), calls


def test_not_root_without_sudo_it_stops_with_the_command_to_run(
    machine: Callable[[list[str]], FakeDebian],
) -> None:
    build = listed()
    fake = machine(build[:-1])
    stopped = fake.run(uid=1000, sudo="asks-a-password")
    assert stopped.returncode == 1
    assert f"sudo apt-get update && sudo {INSTALL} {build[-1]}" in stopped.stderr
    assert [call for call in fake.calls() if "apt-get" in call] == []


def test_the_container_build_needs_no_package_outside_the_list() -> None:
    """The Dockerfile's build stage installs its own packages (a slim Rust image); each one must
    be on the list, or `make run` lacks something the image's build needed."""
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    found = re.search(
        r"AS chef\n.*?apt-get install -y --no-install-recommends(.*?)&&", dockerfile, re.S
    )
    assert found, "the Dockerfile's chef stage installs packages"
    packages = [word for word in found.group(1).split() if word != "\\"]
    assert packages, found.group(0)
    assert set(packages) <= set(listed())
