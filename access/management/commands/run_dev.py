"""`manage.py run_dev [addrport]`, what `make run` runs: the site with its gate side and its task
runner alive.

Starts Mosquitto with deploy/mosquitto/dev.conf on GATE_BROKER_URL (unless a broker already
listens there: it is used as it is), one `gate_bridge`, a Celery worker with its beat scheduler
(emails, no-show release, reminders, lapses; docs/tasks.md) and `runserver`, each in its own
process group. Ctrl-C, a SIGTERM or SIGHUP, or any of them stopping, stops them all, their
children included.
"""

from __future__ import annotations

import contextlib
import getpass
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from access.mqtt import BrokerSettings

BROKER_START_SECONDS = 15.0
STOP_GRACE_SECONDS = 5.0
BRIDGE_CLIENT_ID = "toolgate-bridge-dev"
DEV_CONF = "deploy/mosquitto/dev.conf"
# Debian installs the broker outside a normal user's PATH.
MOSQUITTO_PATHS = (
    "/usr/sbin/mosquitto",
    "/opt/homebrew/sbin/mosquitto",
    "/usr/local/sbin/mosquitto",
)
INSTALL_MOSQUITTO = (
    "Mosquitto is not installed: `scripts/ensure-system-packages mosquitto` installs it on "
    "Debian or Ubuntu (`make run` does), `brew install mosquitto` on macOS."
)


class Command(BaseCommand):
    help = (
        "Serve the site with a development Mosquitto, a gate bridge and a task worker with its "
        "scheduler (Ctrl-C stops all)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport: str, **options) -> None:
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, lambda *_: stop.set())
        children: dict[str, subprocess.Popen] = {}
        try:
            self._start_broker(children, stop)
            if not stop.is_set():
                children["gate bridge"] = _manage("gate_bridge", "--client-id", BRIDGE_CLIENT_ID)
                children["task worker"] = _task_worker()
                children["site"] = _manage("runserver", addrport)
            while not stop.wait(0.2):
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"The {name} stopped (exit {child.returncode}).")
                        stop.set()
        finally:
            _stop_all(children.values())
        self.stdout.write(f"Stopped: {', '.join(children)}.")

    def _start_broker(self, children: dict[str, subprocess.Popen], stop: threading.Event) -> None:
        broker = BrokerSettings.from_settings()
        where = f"{broker.host}:{broker.port}"
        if is_listening(broker.host, broker.port):
            self.stdout.write(
                f"An MQTT broker already listens on {where} (a system Mosquitto?): using it."
            )
            return
        if broker.tls or not is_loopback(broker.host):
            raise CommandError(
                f"Nothing listens on GATE_BROKER_URL ({settings.GATE_BROKER_URL}), and a "
                "development broker serves plain MQTT on a loopback address only."
            )
        binary = shutil.which("mosquitto") or next(
            (path for path in MOSQUITTO_PATHS if Path(path).exists()), None
        )
        if binary is None:
            raise CommandError(INSTALL_MOSQUITTO)
        config = _write_dev_config(broker)
        self.stdout.write(
            f"Mosquitto ({binary}) on {where}, from {DEV_CONF} "
            f"(written to {config.relative_to(settings.BASE_DIR)})."
        )
        self.stdout.flush()
        child = children["broker"] = _start([binary, "-c", str(config)])
        deadline = time.monotonic() + BROKER_START_SECONDS
        while not is_listening(broker.host, broker.port) and not stop.is_set():
            if child.poll() is not None or time.monotonic() > deadline:
                raise CommandError(f"Mosquitto did not start on {where}.")
            time.sleep(0.1)  # polling a port: there is no event to wait on


def is_listening(host: str, port: int, *, timeout: float = 0.5) -> bool:
    """Whether a TCP connection to host:port is accepted right now."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


def _write_dev_config(broker: BrokerSettings) -> Path:
    base_dir = Path(settings.BASE_DIR)
    state = base_dir / "var" / "mosquitto"
    state.mkdir(parents=True, exist_ok=True)
    config = state / "dev.conf"
    config.write_text(
        mosquitto_dev_config(
            (base_dir / DEV_CONF).read_text(),
            host=broker.host,
            port=broker.port,
            base_dir=base_dir,
            user=getpass.getuser(),
        )
    )
    return config


def _task_worker() -> subprocess.Popen:
    """One Celery worker with beat embedded (production runs them apart: deploy/*.service). The
    solo pool runs one task at a time, enough for a demo; beat keeps its schedule's state beside
    the embedded broker's files."""
    state = Path(settings.TASK_STATE_DIR)
    state.mkdir(parents=True, exist_ok=True)
    return _start(
        [
            sys.executable,
            "-m",
            "celery",
            "--app",
            "config",
            "worker",
            "--beat",
            "--schedule",
            str(state / "beat-schedule"),
            "--pool",
            "solo",
            "--hostname",
            "toolgate-dev@%h",
            "--loglevel",
            "INFO",
            # One worker: no peers to synchronise with or to watch.
            "--without-mingle",
            "--without-gossip",
        ]
    )


def _manage(*arguments: str) -> subprocess.Popen:
    return _start([sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *arguments])


def _start(argv: list[str]) -> subprocess.Popen:
    """`argv` from the project's directory, in a process group of its own, so that stopping it
    reaches its children too (runserver's autoreloader runs the server in a child, the worker
    runs beat in one)."""
    return subprocess.Popen(argv, cwd=settings.BASE_DIR, process_group=0)  # noqa: S603


def _stop_all(children) -> None:
    running = [child for child in children if child.poll() is None]
    for child in running:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in running:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(child, signal.SIGKILL)
            child.wait()
    for child in children:
        # Grandchildren that outlived their parent (runserver's server process, say).
        _signal_group(child, signal.SIGKILL)


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(child.pid, signum)
