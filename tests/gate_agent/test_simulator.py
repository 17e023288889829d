"""`--simulate` with any relay and reader backend: the real backends on twins, typed commands."""

from __future__ import annotations

import io
import time

import pytest

from gate_agent.__main__ import _parser, _simulated_config
from gate_agent.badges import normalize_badge_uid
from gate_agent.simulator import SIMULATED_READERS, SIMULATED_RELAYS, simulated_hardware


def _until(condition, what: str, deadline: float = 5.0) -> None:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.mark.parametrize("relay_backend", SIMULATED_RELAYS)
@pytest.mark.parametrize("reader_backend", SIMULATED_READERS)
def test_every_backend_runs_in_the_simulator(relay_backend, reader_backend):
    pytest.importorskip("adafruit_pn532")
    stream = io.StringIO("04:a3:2b:1c\n:load 800\n")
    hardware = simulated_hardware(relay_backend, reader_backend, stream=stream)
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


def test_a_welded_plug_in_the_simulator_draws_with_the_relay_off():
    hardware = simulated_hardware("shelly", "stdin", stream=io.StringIO(":load 500\n:weld\n"))
    try:
        meter = hardware.meter
        assert meter is not None
        _until(lambda: meter.watts() == pytest.approx(500), "the welded load")
        assert not hardware.relay.read_back()
    finally:
        hardware.close()


def test_simulated_config_meters_the_simulated_plug(monkeypatch):
    monkeypatch.setenv("TOOLGATE_GATE_SECRET", "s" * 32)
    args = _parser().parse_args(["--simulate", "--relay", "tasmota", "--idle-minutes", "5"])
    config = _simulated_config(args)
    assert config.power.source == "relay" and config.power.idle_minutes == 5
    assert config.relay.backend == "simulated"  # the twin is built by the simulator instead
    plain = _simulated_config(_parser().parse_args(["--simulate"]))
    assert plain.power.source == "simulated" and plain.power.idle_minutes is None
