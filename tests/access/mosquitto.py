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
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mosquitto:
    def __init__(self, directory: Path, *, extra_config: str = "") -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            pytest.fail(
                "mosquitto is missing: run scripts/ensure-system-packages (make test does)."
            )
        self.binary = binary
        self.port = free_port()
        self.config = directory / "mosquitto.conf"
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
        self.process = subprocess.Popen(  # noqa: S603 - fixed binary, generated config
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"mosquitto exited: {self.process.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        pytest.fail("mosquitto did not start listening")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def reload(self) -> None:
        """SIGHUP: Mosquitto re-reads its password file and ACL."""
        import signal

        self.process.send_signal(signal.SIGHUP)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"
