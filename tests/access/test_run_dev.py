"""`make run` (manage.py run_dev): Mosquitto from deploy/mosquitto/dev.conf or a broker already
listening, the gate bridge, the task worker with beat, and the site; Ctrl-C stops every one."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from access.management.commands import run_dev
from tests.access.mosquitto import free_port

DEADLINE = 60.0


@pytest.fixture
def listener():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_is_listening_tells_a_taken_port_from_a_free_one(listener):
    assert run_dev.is_listening("127.0.0.1", listener)
    assert not run_dev.is_listening("127.0.0.1", free_port())


def test_dev_mosquitto_config_keeps_the_committed_options_on_the_configured_port(tmp_path):
    template = (Path(django_settings.BASE_DIR) / run_dev.DEV_CONF).read_text()
    config = run_dev.mosquitto_dev_config(
        template, host="127.0.0.1", port=18999, base_dir=tmp_path, user="maker"
    ).splitlines()
    assert "listener 1883 127.0.0.1" in template.splitlines()
    assert [line for line in config if line.startswith("listener")] == ["listener 18999 127.0.0.1"]
    assert f"persistence_location {tmp_path}/var/mosquitto/" in config
    for option in ("allow_anonymous true", "set_tcp_nodelay true", "persistence true"):
        assert option in config
    assert config[-1] == "user maker"


def _start_broker(capsys) -> tuple[dict, str]:
    children: dict = {}
    run_dev.Command()._start_broker(children, threading.Event())
    return children, capsys.readouterr().out


def test_a_broker_already_listening_is_used_and_nothing_is_started(listener, settings, capsys):
    settings.GATE_BROKER_URL = f"mqtt://127.0.0.1:{listener}"
    children, said = _start_broker(capsys)
    assert children == {}
    assert f"already listens on 127.0.0.1:{listener}" in said and "using it" in said


@pytest.mark.parametrize("url", ["mqtt://broker.example.org:1883", "mqtts://127.0.0.1:8883"])
def test_a_development_broker_serves_plain_mqtt_on_loopback_only(settings, url):
    settings.GATE_BROKER_URL = url
    with pytest.raises(CommandError, match="loopback"):
        run_dev.Command()._start_broker({}, threading.Event())


def test_without_mosquitto_it_says_how_to_install_it(settings, monkeypatch):
    settings.GATE_BROKER_URL = f"mqtt://127.0.0.1:{free_port()}"
    monkeypatch.setattr(run_dev.shutil, "which", lambda name: None)
    monkeypatch.setattr(run_dev, "MOSQUITTO_PATHS", ())
    with pytest.raises(CommandError) as refused:
        run_dev.Command()._start_broker({}, threading.Event())
    assert "scripts/ensure-system-packages mosquitto" in refused.value.args[0]
    assert "brew install mosquitto" in refused.value.args[0]


def test_gate_demo_without_a_broker_says_to_start_make_run_first(settings):
    settings.GATE_BROKER_URL = f"mqtt://127.0.0.1:{free_port()}"
    with pytest.raises(CommandError, match="start `make run` first"):
        call_command("gate_demo")


def test_gate_demo_with_a_broker_but_no_site_says_the_bridge_is_not_answering(settings):
    """A broker up (a system Mosquitto) but the site and its bridge stopped: said at once, not a
    silent gate whose every scan reads offline_not_listed."""
    with socket.socket() as broker:
        broker.bind(("127.0.0.1", 0))
        broker.listen()
        settings.GATE_BROKER_URL = f"mqtt://127.0.0.1:{broker.getsockname()[1]}"
        settings.SITE_URL = f"http://127.0.0.1:{free_port()}"
        with pytest.raises(CommandError, match="the site's gate bridge does not"):
            call_command("gate_demo")


@pytest.mark.django_db
@pytest.mark.parametrize(("relay", "reader"), [("simulated", "stdin"), ("tasmota_mqtt", "evdev")])
def test_gate_demo_runs_the_simulator_on_the_backends_asked_for(
    settings, monkeypatch, relay, reader
):
    """`make gate-demo RELAY=... READER=...` hands both to the simulated gate, with the demo
    gate's secret in the environment only."""
    from access.demo import DEMO_DEVICE_ID
    from access.management.commands import gate_demo
    from tests.factories.access import GateDeviceFactory

    device = GateDeviceFactory(device_id=DEMO_DEVICE_ID)
    ran: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(gate_demo.os, "execve", lambda path, argv, env: ran.append((argv, env)))
    with socket.socket() as broker, socket.socket() as site:
        for listening in (broker, site):
            listening.bind(("127.0.0.1", 0))
            listening.listen()
        settings.GATE_BROKER_URL = f"mqtt://127.0.0.1:{broker.getsockname()[1]}"
        settings.SITE_URL = f"http://127.0.0.1:{site.getsockname()[1]}"
        options = {} if relay == "simulated" else {"relay": relay, "reader": reader}
        call_command("gate_demo", **options)
    [(argv, env)] = ran
    assert argv[argv.index("--relay") + 1] == relay
    assert argv[argv.index("--reader") + 1] == reader
    assert device.secret not in argv and env["TOOLGATE_GATE_SECRET"] == device.secret


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


def _wait(condition, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert process.poll() is None, f"run_dev exited with {process.returncode}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)  # a port or a log line: nothing to wait on but polling


@pytest.mark.mosquitto
def test_run_dev_serves_everything_runs_periodic_jobs_and_ctrl_c_leaves_no_process(tmp_path):
    """Mosquitto, the bridge, the worker and beat (the bookings tick runs, on a one-second
    interval here) and the site all start; Ctrl-C stops them all and frees their ports."""
    broker_port, site_port = free_port(), free_port()
    env = {
        **os.environ,
        "GATE_BROKER_URL": f"mqtt://127.0.0.1:{broker_port}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "TASK_STATE_DIR": str(tmp_path / "tasks"),
        "BOOKINGS_TICK_SECONDS": "1",
        "DEBUG": "1",
        # Every descendant inherits it: leftovers are found by it.
        "TOOLGATE_TEST_MARKER": uuid.uuid4().hex,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    manage = [sys.executable, str(Path(django_settings.BASE_DIR) / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True, capture_output=True)  # noqa: S603
    log = tmp_path / "run.log"
    with log.open("w") as output:
        supervisor = subprocess.Popen(  # noqa: S603 - this interpreter and manage.py
            [*manage, "run_dev", f"127.0.0.1:{site_port}"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    tick_done = re.compile(r"Task bookings\.tasks\.bookings_tick\[[0-9a-f-]+\] succeeded")
    try:
        _wait(lambda: run_dev.is_listening("127.0.0.1", broker_port), "Mosquitto", supervisor)
        _wait(lambda: run_dev.is_listening("127.0.0.1", site_port), "the site", supervisor)
        _wait(lambda: tick_done.search(log.read_text()), "beat's bookings tick", supervisor)
        # run_dev, Mosquitto, the bridge, the worker and its beat, runserver and its server.
        assert len(_processes_marked(env["TOOLGATE_TEST_MARKER"])) >= 7
    finally:
        supervisor.send_signal(signal.SIGINT)  # what Ctrl-C sends it
        supervisor.wait(timeout=DEADLINE)
    said = log.read_text()
    assert "deploy/mosquitto/dev.conf" in said
    assert "Bridge toolgate-bridge-dev-events connected" in said
    assert "beat: Starting..." in said
    assert "Stopped: broker, gate bridge, task worker, site." in said
    assert _processes_marked(env["TOOLGATE_TEST_MARKER"]) == []
    assert not run_dev.is_listening("127.0.0.1", site_port)
    assert not run_dev.is_listening("127.0.0.1", broker_port)
