"""`manage.py run_dev [addrport]`, what `make run` runs: the site with its gate side alive.

Starts the development MQTT broker (`gate_dev_broker`, unless one already listens on
GATE_BROKER_URL), one `gate_bridge` and `runserver`, each in its own process group. Ctrl-C, a
SIGTERM or SIGHUP, or any of them stopping, stops them all, their children included.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from access.devbroker.launch import is_listening
from access.mqtt import BrokerSettings

BROKER_START_SECONDS = 15.0
STOP_GRACE_SECONDS = 5.0
BRIDGE_CLIENT_ID = "toolgate-bridge-dev"


class Command(BaseCommand):
    help = "Serve the site with the development MQTT broker and a gate bridge (Ctrl-C stops all)."

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
        if is_listening(broker.host, broker.port):
            self.stdout.write(
                f"An MQTT broker already listens on {broker.host}:{broker.port} "
                "(a system Mosquitto?): using it."
            )
            return
        child = children["broker"] = _manage("gate_dev_broker")
        deadline = time.monotonic() + BROKER_START_SECONDS
        while not is_listening(broker.host, broker.port) and not stop.is_set():
            if child.poll() is not None or time.monotonic() > deadline:
                raise CommandError(
                    f"The development MQTT broker did not start on {broker.host}:{broker.port}."
                )
            time.sleep(0.1)


def _manage(*arguments: str) -> subprocess.Popen:
    """`manage.py <arguments>` in a process group of its own, so that stopping it reaches its
    children too (runserver's autoreloader runs the server in a child)."""
    return subprocess.Popen(  # noqa: S603 - this interpreter and manage.py
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *arguments], process_group=0
    )


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
