"""Shelly and Tasmota relays against twins that speak their HTTP protocols, and `Switch`, which
reads back every switch, raises alarms and fails closed."""

from __future__ import annotations

import pytest

from gate_agent.hardware.shelly import ShellyRelay
from gate_agent.hardware.simulated import SimulatedRelay
from gate_agent.hardware.tasmota import TasmotaRelay
from gate_agent.hardware.twins import ShellyTwin, TasmotaTwin
from gate_agent.interfaces import PowerMeter, Relay, RelayError, SensorError
from gate_agent.switch import (
    ALARM_RELAY_NOT_ON,
    ALARM_RELAY_STUCK_ON,
    ALARM_RELAY_UNREACHABLE,
    Switch,
)

from .conftest import FakeClock, FlakyRelay

PASSWORD = "plug-password-1"


@pytest.fixture
def shelly():
    twin = ShellyTwin()
    yield twin
    twin.close()


@pytest.fixture
def locked_shelly():
    twin = ShellyTwin(password=PASSWORD)
    yield twin
    twin.close()


@pytest.fixture
def tasmota():
    twin = TasmotaTwin()
    yield twin
    twin.close()


def _relays(twin, password=None, timeout=2.0):
    if isinstance(twin, ShellyTwin):
        return ShellyRelay(twin.host, password=password, timeout=timeout)
    return TasmotaRelay(twin.host, password=password, timeout=timeout)


@pytest.fixture(params=["shelly", "tasmota"])
def twin(request):
    twin = ShellyTwin() if request.param == "shelly" else TasmotaTwin()
    yield twin
    twin.close()


def test_smart_relays_satisfy_the_interfaces(twin):
    relay = _relays(twin)
    assert isinstance(relay, Relay)
    assert isinstance(relay, PowerMeter)


def test_switches_the_device_and_reads_its_real_state_back(twin):
    relay = _relays(twin)
    assert not relay.is_on and not relay.read_back()
    relay.on()
    assert twin.output and relay.is_on and relay.read_back()
    relay.off()
    assert not twin.output and not relay.is_on and not relay.read_back()


def test_power_reading_is_what_the_load_draws_while_on(twin):
    relay = _relays(twin)
    twin.load_watts = 840.0
    assert relay.watts() == 0.0
    relay.on()
    assert relay.watts() == pytest.approx(840.0)


def test_shelly_speaks_its_rpc(shelly):
    relay = ShellyRelay(shelly.host)
    relay.on()
    relay.read_back()
    assert shelly.requests == ["/rpc/Switch.Set?id=0&on=true", "/rpc/Switch.GetStatus?id=0"]


def test_tasmota_speaks_its_commands(tasmota):
    relay = TasmotaRelay(tasmota.host)
    relay.on()
    relay.read_back()
    relay.watts()
    assert tasmota.requests == [
        "/cm?cmnd=Power1+On",
        "/cm?cmnd=Power1",
        "/cm?cmnd=Status+8",
    ]


def test_shelly_with_a_password_takes_digest_auth(locked_shelly):
    relay = ShellyRelay(locked_shelly.host, password=PASSWORD)
    relay.on()
    assert locked_shelly.output and relay.read_back()


@pytest.mark.parametrize("password", [None, "wrong-password"])
def test_shelly_refuses_a_missing_or_wrong_password(locked_shelly, password):
    relay = ShellyRelay(locked_shelly.host, password=password)
    with pytest.raises(RelayError, match="401"):
        relay.on()
    assert not locked_shelly.output
    with pytest.raises(SensorError):
        relay.watts()


def test_tasmota_password_goes_in_the_query():
    twin = TasmotaTwin(password=PASSWORD)
    try:
        with pytest.raises(RelayError):
            TasmotaRelay(twin.host).on()
        assert not twin.output
        TasmotaRelay(twin.host, password=PASSWORD).on()
        assert twin.output
    finally:
        twin.close()


def test_a_device_that_stops_answering_raises_within_the_timeout(twin):
    relay = _relays(twin, timeout=0.3)
    twin.hang()
    with pytest.raises(RelayError):
        relay.on()
    with pytest.raises(RelayError):
        relay.read_back()
    with pytest.raises(SensorError):
        relay.watts()
    twin.resume()


def test_an_unreachable_device_raises():
    twin = ShellyTwin()
    host = twin.host
    twin.close()
    with pytest.raises(RelayError):
        ShellyRelay(host, timeout=0.5).on()
    with pytest.raises(RelayError):
        TasmotaRelay(host, timeout=0.5).on()


def test_a_meter_less_device_reports_no_power(shelly, monkeypatch):
    relay = ShellyRelay(shelly.host)
    monkeypatch.setattr(relay, "status", lambda: {"id": 0, "output": False})
    with pytest.raises(SensorError, match="no power"):
        relay.watts()


def test_a_status_without_output_is_an_error(shelly, monkeypatch):
    relay = ShellyRelay(shelly.host)
    monkeypatch.setattr(relay, "status", lambda: {"id": 0, "apower": 1.0})
    with pytest.raises(RelayError, match="no output"):
        relay.read_back()


# -- Switch: read back, alarms, fail closed ------------------------------------------------------


class Alarms(list):
    """The (reason, sentence) of each alarm raised; the sentence is what the gate's screen shows."""

    def __call__(self, reason: str, sentence: str) -> None:
        self.append((reason, sentence))

    @property
    def reasons(self) -> list[str]:
        return [reason for reason, _ in self]


def _switch(relay, clock=None, retry=5.0):
    alarms = Alarms()
    clock = clock or FakeClock()
    return Switch(relay, alarm=alarms, clock=clock, retry_seconds=retry), alarms, clock


def test_a_new_switch_switches_the_relay_off_and_confirms_it():
    relay = SimulatedRelay()
    relay.on()  # left on by a crashed agent
    switch, alarms, clock = _switch(relay)
    assert not relay.is_on and switch.off_confirmed and alarms == []
    assert switch.off_since == clock()


def test_a_relay_unreachable_when_the_switch_is_made_is_alarmed_and_retried_off():
    relay = FlakyRelay()
    relay._on, relay.unreachable = True, True
    switch, alarms, clock = _switch(relay)
    assert alarms == [(ALARM_RELAY_UNREACHABLE, "Switching off failed, retrying: timed out")]
    assert not switch.off_confirmed
    relay.unreachable = False
    clock.advance(5)
    switch.retry()
    assert switch.off_confirmed and not relay.is_on


def test_switch_on_and_off_confirmed(shelly):
    switch, alarms, _ = _switch(ShellyRelay(shelly.host))
    assert switch.on() is True and shelly.output
    assert not switch.off_confirmed
    switch.off()
    assert switch.off_confirmed and not shelly.output and alarms == []


def test_an_unreachable_plug_is_a_failed_switch_on_retried_off(shelly):
    clock = FakeClock()
    switch, alarms, _ = _switch(ShellyRelay(shelly.host, timeout=0.3), clock)
    shelly.requests.clear()
    shelly.hang()
    assert switch.on() is False
    assert alarms.reasons == [ALARM_RELAY_UNREACHABLE]  # once, though switching off failed too
    assert not switch.off_confirmed
    shelly.resume()
    clock.advance(4.9)
    switch.retry()
    assert shelly.requests == []  # not before retry_seconds
    clock.advance(0.1)
    switch.retry()
    assert switch.off_confirmed and not shelly.output
    assert shelly.requests[0] == "/rpc/Switch.Set?id=0&on=false"


def test_a_plug_that_does_not_follow_on_is_switched_off_with_an_alarm(shelly):
    shelly.stuck = True
    switch, alarms, _ = _switch(ShellyRelay(shelly.host))
    assert switch.on() is False
    assert alarms == [(ALARM_RELAY_NOT_ON, "The relay was switched on but reads off.")]
    assert shelly.requests[-2:] == ["/rpc/Switch.Set?id=0&on=false", "/rpc/Switch.GetStatus?id=0"]


def test_a_relay_stuck_on_raises_once_and_is_retried_until_it_reads_off(shelly):
    clock = FakeClock()
    switch, alarms, _ = _switch(ShellyRelay(shelly.host), clock)
    assert switch.on()
    shelly.stuck = True
    switch.off()
    assert not switch.off_confirmed
    clock.advance(5)
    switch.retry()
    assert alarms == [(ALARM_RELAY_STUCK_ON, "The relay was switched off but reads on.")]
    shelly.stuck = False
    clock.advance(5)
    switch.retry()
    assert switch.off_confirmed and not shelly.output
    # A new failure after a confirmed off raises again.
    assert switch.on()
    shelly.stuck = True
    switch.off()
    assert alarms.reasons == [ALARM_RELAY_STUCK_ON, ALARM_RELAY_STUCK_ON]


def test_every_failed_try_is_logged_though_alarmed_once_and_so_is_the_recovery(caplog):
    caplog.set_level("WARNING", logger="gate_agent.switch")
    relay = FlakyRelay()
    switch, alarms, clock = _switch(relay)
    assert switch.on()
    relay.stuck_on = True
    switch.off()
    clock.advance(5)
    switch.retry()
    relay.stuck_on = False
    clock.advance(5)
    switch.retry()
    stuck = "Relay alarm relay_stuck_on: The relay was switched off but reads on."
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", stuck),
        ("ERROR", stuck),
        ("WARNING", "Relay confirmed off again"),
    ]
    assert len(alarms) == 1


def test_switching_on_cancels_the_retry_of_an_earlier_unconfirmed_off():
    relay = FlakyRelay()
    switch, _, clock = _switch(relay)
    relay.unreachable = True
    switch.off()
    relay.unreachable = False
    assert switch.on()
    clock.advance(60)
    switch.retry()
    assert relay.is_on  # the session that switched on since keeps its power


def test_switch_retry_does_nothing_once_off_is_confirmed():
    relay = SimulatedRelay()
    switch, alarms, clock = _switch(relay)
    switch.off()
    clock.advance(60)
    switch.retry()
    assert relay.transitions == [] and alarms == []


class _Exploding(SimulatedRelay):
    def on(self) -> None:
        raise OSError("bus error")


def test_any_exception_switching_on_fails_closed():
    relay = _Exploding()
    switch, alarms, _ = _switch(relay)
    assert switch.on() is False
    assert alarms == [(ALARM_RELAY_UNREACHABLE, "Switching on failed: bus error")]
    assert not relay.is_on
