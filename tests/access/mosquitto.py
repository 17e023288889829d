"""A private Mosquitto for tests that configure, stop or restart the broker.

Started on a free loopback port from a generated config and stopped afterwards, so tests of
credentials, ACLs or outages never touch the machine's shared broker.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

PRODUCTION_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "toolgate.conf"
# The production file's lines that only fit the production host: its TLS listener, and the
# persistence that `Mosquitto` sets up in the test's directory.
_HOST_ONLY = ("listener", "certfile", "keyfile", "persistence")


def production_config(*, password_file: Path, acl_file: Path) -> str:
    """deploy/mosquitto/toolgate.conf, every setting as in production, for `extra_config`:
    the listener, certificate and persistence lines dropped and the users and ACL
    `gate_broker_config` wrote for the test."""
    lines = []
    for line in PRODUCTION_CONFIG.read_text().splitlines():
        key = line.split(" ", 1)[0]
        if key in _HOST_ONLY:
            continue
        if key == "password_file":
            line = f"password_file {password_file}"
        elif key == "acl_file":
            line = f"acl_file {acl_file}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def wait_for(condition: Callable[[], bool], what: str, *, deadline: float = 10.0) -> None:
    """Poll until the broker has delivered; fail after a bounded wait."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mosquitto:
    """One broker in `directory`: its config, persistence and log (`mosquitto.log`) live there,
    so two brokers of one test (a location's and the centre's) each get a directory of their own."""

    def __init__(self, directory: Path, *, extra_config: str = "") -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            pytest.fail(
                "mosquitto is missing: run scripts/ensure-system-packages (make test does)."
            )
        self.binary = binary
        self.port = free_port()
        directory.mkdir(parents=True, exist_ok=True)
        self.config = directory / "mosquitto.conf"
        self.log = directory / "mosquitto.log"
        # Started as root, Mosquitto would drop to the `mosquitto` user, who cannot read the
        # test's private files; stay the user who wrote them.
        user = "user root\n" if os.geteuid() == 0 else ""
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n{user}"
            # Persistent as in production: queued messages for the bridge survive a restart.
            f"persistence true\npersistence_location {directory}/\n"
            + (extra_config or "allow_anonymous true\n")
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> Mosquitto:
        # The log goes to a file, never to a pipe nobody reads: a broker that logs a lot (a
        # bridge reconnecting, many clients) would block once the pipe's buffer filled.
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed binary, generated config
                [self.binary, "-c", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"mosquitto exited: {self.log.read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        pytest.fail("mosquitto did not start listening")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                # A location broker whose bridge to the centre is mid-reconnect over a cut cable
                # can outlast SIGTERM's 10 s on a loaded machine (CI): the test has already
                # asserted what it needed; the process must not outlive it.
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def reload(self) -> None:
        """SIGHUP: Mosquitto re-reads its password file and ACL."""
        import signal

        self.process.send_signal(signal.SIGHUP)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"
