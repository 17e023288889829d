"""Which broker development uses, the dev Mosquitto config, and the commands around them."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from access.devbroker.launch import (
    BrokerChoice,
    broker_choice,
    is_listening,
    mosquitto_dev_config,
)
from tests.access.mosquitto import free_port

DEADLINE = 20.0


@pytest.mark.parametrize(
    ("listening", "mosquitto", "expected"),
    [
        (True, "/usr/sbin/mosquitto", BrokerChoice.EXISTING),
        (True, None, BrokerChoice.EXISTING),
        (False, "/usr/sbin/mosquitto", BrokerChoice.MOSQUITTO),
        (False, None, BrokerChoice.EMBEDDED),
    ],
)
def test_broker_choice(listening, mosquitto, expected):
    """A broker already listening wins, then an installed Mosquitto, then the embedded one."""
    assert broker_choice(listening=listening, mosquitto=mosquitto) is expected


@pytest.fixture
def listener():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_is_listening_tells_a_taken_port_from_a_free_one(listener):
    assert is_listening("127.0.0.1", listener)
    assert not is_listening("127.0.0.1", free_port())


def test_dev_mosquitto_config_keeps_the_committed_options_on_the_configured_port(tmp_path):
    template = (Path(django_settings.BASE_DIR) / "deploy/mosquitto/dev.conf").read_text()
    config = mosquitto_dev_config(
        template, host="127.0.0.1", port=18999, base_dir=tmp_path, user="maker"
    ).splitlines()
    assert "listener 1883 127.0.0.1" in template.splitlines()
    assert [line for line in config if line.startswith("listener")] == ["listener 18999 127.0.0.1"]
    assert f"persistence_location {tmp_path}/var/mosquitto/" in config
    for option in ("allow_anonymous true", "set_tcp_nodelay true", "persistence true"):
        assert option in config
    assert config[-1] == "user maker"


def test_dev_broker_reuses_a_broker_already_listening(listener, settings, capsys):
    settings.GATE_BROKER_URL = f"mqtt://127.0.0.1:{listener}"
    call_command("gate_dev_broker")  # returns at once instead of serving
    assert f"already listens on 127.0.0.1:{listener}: using it" in capsys.readouterr().out


@pytest.mark.parametrize("url", ["mqtt://broker.example.org:1883", "mqtts://127.0.0.1:8883"])
def test_dev_broker_serves_plain_mqtt_on_loopback_only(settings, url):
    settings.GATE_BROKER_URL = url
    with pytest.raises(CommandError, match="loopback"):
        call_command("gate_dev_broker")


def test_gate_demo_without_a_broker_says_to_start_make_run_first(settings):
    settings.GATE_BROKER_URL = f"mqtt://127.0.0.1:{free_port()}"
    with pytest.raises(CommandError, match="start `make run` first"):
        call_command("gate_demo")


def _environment(tmp_path: Path, *, broker_port: int, with_mosquitto: bool) -> dict[str, str]:
    """A child environment: its own broker port and database, Mosquitto on PATH or hidden, and
    a marker every descendant inherits, to find leftovers by."""
    path = os.environ["PATH"].split(os.pathsep)
    if with_mosquitto:
        path.append("/usr/sbin")
    else:
        path = [folder for folder in path if not (Path(folder) / "mosquitto").exists()]
    return {
        **os.environ,
        "PATH": os.pathsep.join(path),
        "GATE_BROKER_URL": f"mqtt://127.0.0.1:{broker_port}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "1",
        "TOOLGATE_TEST_MARKER": uuid.uuid4().hex,
    }


def _processes_marked(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone meanwhile, or not ours
        if f"TOOLGATE_TEST_MARKER={marker}".encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def _wait_listening(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + DEADLINE
    while not is_listening("127.0.0.1", port):
        assert process.poll() is None, f"exited with {process.returncode}"
        assert time.monotonic() < deadline, f"nothing listens on port {port}"
        time.sleep(0.1)  # polling a port: there is no event to wait on


def _manage(*arguments: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    """`manage.py <arguments>` writing to `log` (a pipe nobody reads could fill and block it)."""
    with log.open("w") as output:
        return subprocess.Popen(  # noqa: S603 - this interpreter and manage.py
            [sys.executable, str(Path(django_settings.BASE_DIR) / "manage.py"), *arguments],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.parametrize(
    ("with_mosquitto", "says"),
    [
        pytest.param(False, "embedded development broker", id="embedded"),
        pytest.param(
            True, "deploy/mosquitto/dev.conf", id="mosquitto", marks=pytest.mark.mosquitto
        ),
    ],
)
def test_dev_broker_serves_on_the_configured_port_until_terminated(tmp_path, with_mosquitto, says):
    if with_mosquitto and not shutil.which("mosquitto", path=os.environ["PATH"] + ":/usr/sbin"):
        pytest.fail("mosquitto is missing: run scripts/ensure-system-packages (make test does).")
    port = free_port()
    env = _environment(tmp_path, broker_port=port, with_mosquitto=with_mosquitto)
    broker = _manage("gate_dev_broker", env=env, log=tmp_path / "broker.log")
    try:
        _wait_listening(port, broker)
    finally:
        broker.send_signal(signal.SIGTERM)
        broker.wait(timeout=DEADLINE)
    assert says in (tmp_path / "broker.log").read_text()
    assert not is_listening("127.0.0.1", port)


def test_run_dev_serves_site_broker_and_bridge_and_ctrl_c_leaves_no_process(tmp_path):
    broker_port, site_port = free_port(), free_port()
    env = _environment(tmp_path, broker_port=broker_port, with_mosquitto=False)
    supervisor = _manage("run_dev", f"127.0.0.1:{site_port}", env=env, log=tmp_path / "run.log")
    try:
        _wait_listening(broker_port, supervisor)
        _wait_listening(site_port, supervisor)
        running = _processes_marked(env["TOOLGATE_TEST_MARKER"])
        # run_dev, the broker, the bridge, runserver and its autoreloaded server.
        assert len(running) >= 5
    finally:
        supervisor.send_signal(signal.SIGINT)  # what Ctrl-C sends it
        supervisor.wait(timeout=DEADLINE)
    output = (tmp_path / "run.log").read_text()
    assert "Stopped: broker, gate bridge, site." in output
    assert "Bridge toolgate-bridge-dev-events connected" in output
    assert "ERROR asyncio" not in output  # the broker shut down cleanly
    assert _processes_marked(env["TOOLGATE_TEST_MARKER"]) == []
    assert not is_listening("127.0.0.1", site_port)
    assert not is_listening("127.0.0.1", broker_port)
