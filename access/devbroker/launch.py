"""Which MQTT broker development uses: one already listening, else Mosquitto, else the embedded one.

`manage.py gate_dev_broker` and `manage.py run_dev` (what `make run` runs) decide with these.
"""

from __future__ import annotations

import socket
from enum import StrEnum
from pathlib import Path


class BrokerChoice(StrEnum):
    EXISTING = "existing"  # something already listens on the broker's address: use it
    MOSQUITTO = "mosquitto"  # installed: run it with deploy/mosquitto/dev.conf
    EMBEDDED = "embedded"  # neither: the development broker in `access.devbroker`


def broker_choice(*, listening: bool, mosquitto: str | None) -> BrokerChoice:
    """`mosquitto` is the binary's path when one is installed (on PATH), else None."""
    if listening:
        return BrokerChoice.EXISTING
    if mosquitto:
        return BrokerChoice.MOSQUITTO
    return BrokerChoice.EMBEDDED


def is_listening(host: str, port: int, *, timeout: float = 0.5) -> bool:
    """Whether a TCP connection to host:port is accepted right now."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def mosquitto_dev_config(template: str, *, host: str, port: int, base_dir: Path, user: str) -> str:
    """deploy/mosquitto/dev.conf made to run from anywhere: GATE_BROKER_URL's host and port,
    absolute paths, and `user` so that Mosquitto started as root keeps the files' owner instead
    of switching to a `mosquitto` user who cannot write var/."""
    lines = []
    for line in template.splitlines():
        key, _, value = line.partition(" ")
        if key == "listener":
            line = f"listener {port} {host}"
        elif key == "persistence_location" and not value.startswith("/"):
            line = f"persistence_location {base_dir / value}/"
        lines.append(line)
    lines.append(f"user {user}")
    return "\n".join(lines) + "\n"
