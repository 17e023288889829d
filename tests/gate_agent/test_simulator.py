"""`--simulate` with any relay and reader backend: the real backends on twins, typed commands."""

from __future__ import annotations

import io
import time

import pytest

from gate_agent.__main__ import _parser, _simulated_config
from gate_agent.badges import normalize_badge_uid
from gate_agent.config import READER_BACKENDS, RELAY_BACKENDS, SMART_RELAYS
from gate_agent.simulator import (
    METERED_RELAYS,
    SIMULATED_READERS,
    SIMULATED_RELAYS,
    simulated_hardware,
)
from tests.access.mosquitto import Mosquitto


def _until(condition, what: str, deadline: float = 5.0) -> None:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """A Mosquitto of the module's own, for the Tasmota plug's twin and the gate."""
    mosquitto = Mosquitto(tmp_path_factory.mktemp("simulator-broker")).start()
    yield mosquitto
    mosquitto.stop()


def test_the_simulator_offers_every_backend_the_config_does():
    assert set(SIMULATED_RELAYS) == set(RELAY_BACKENDS)
    assert set(SIMULATED_READERS) == set(READER_BACKENDS)
    assert set(METERED_RELAYS) == set(SMART_RELAYS)


@pytest.mark.parametrize("relay_backend", SIMULATED_RELAYS)
@pytest.mark.parametrize("reader_backend", SIMULATED_READERS)
def test_every_backend_runs_in_the_simulator(relay_backend, reader_backend, request):
    stream = io.StringIO("04:a3:2b:1c\n:load 800\n")
    kwargs = {}
    if relay_backend == "tasmota_mqtt":
        kwargs["broker"] = ("127.0.0.1", request.getfixturevalue("broker").port)
    hardware = simulated_hardware(relay_backend, reader_backend, stream=stream, **kwargs)
    try:
        assert normalize_badge_uid(hardware.reader.read(3.0) or "") == "04A32B1C"
        hardware.relay.on()
        assert hardware.relay.read_back()
        meter = hardware.meter
        assert meter is not None
        _until(lambda: meter.watts() == pytest.approx(800), "the :load command")
        hardware.relay.off()
        assert not hardware.relay.read_back()
    finally:
        hardware.close()


@pytest.mark.parametrize("relay_backend", METERED_RELAYS)
def test_a_welded_or_hung_plug_in_the_simulator(relay_backend, request):
    from gate_agent.interfaces import RelayError

    kwargs = {}
    if relay_backend == "tasmota_mqtt":
        kwargs["broker"] = ("127.0.0.1", request.getfixturevalue("broker").port)
    typed = io.StringIO(":load 500\n:weld\n")
    hardware = simulated_hardware(relay_backend, "stdin", stream=typed, **kwargs)
    try:
        meter = hardware.meter
        assert meter is not None
        _until(lambda: meter.watts() == pytest.approx(500), "the welded load")
        assert not hardware.relay.read_back()
    finally:
        hardware.close()
    typed = io.StringIO(":hang\n")
    hardware = simulated_hardware(relay_backend, "stdin", stream=typed, **kwargs)
    try:
        _until(lambda: _unreachable(hardware.relay, RelayError), "the plug to stop answering")
    finally:
        hardware.close()


def _unreachable(relay, error) -> bool:
    try:
        relay.read_back()
    except error:
        return True
    return False


def test_a_tasmota_plug_simulated_without_a_broker_is_a_configuration_error(tmp_path, capsys):
    from gate_agent.__main__ import main

    argv = ["--simulate", "--relay", "tasmota_mqtt", "--port", "1", "--secret", "s" * 32]
    assert main([*argv, "--state-dir", str(tmp_path)]) == 2
    assert "the plug's twin found no broker at 127.0.0.1:1" in capsys.readouterr().err


@pytest.mark.parametrize("relay_backend", METERED_RELAYS)
def test_simulated_config_meters_the_simulated_plug(monkeypatch, relay_backend):
    monkeypatch.setenv("TOOLGATE_GATE_SECRET", "s" * 32)
    args = _parser().parse_args(["--simulate", "--relay", relay_backend, "--idle-minutes", "5"])
    config = _simulated_config(args)
    assert config.power.source == "relay" and config.power.idle_minutes == 5
    assert config.relay.backend == "simulated"  # the twin is built by the simulator instead
    plain = _simulated_config(_parser().parse_args(["--simulate"]))
    assert plain.power.source == "simulated" and plain.power.idle_minutes is None
