"""Tasmota over MQTT on the real Mosquitto at 127.0.0.1:1883, against a twin that answers
`cmnd/<topic>/...` as the firmware does. Each test uses its own topic."""

from __future__ import annotations

import uuid

import pytest

from gate_agent.hardware.tasmota_mqtt import TasmotaMqttRelay
from gate_agent.hardware.twins import TasmotaMqttTwin
from gate_agent.interfaces import PowerMeter, Relay, RelayError, SensorError
from gate_agent.switch import ALARM_RELAY_UNREACHABLE, Switch

from .conftest import FakeClock

pytestmark = pytest.mark.mosquitto
HOST, PORT = "127.0.0.1", 1883


@pytest.fixture
def plug():
    topic = f"tasmota_{uuid.uuid4().hex[:8]}"
    twin = TasmotaMqttTwin(host=HOST, port=PORT, topic=topic)
    relay = TasmotaMqttRelay(HOST, port=PORT, topic=topic, timeout=2.0)
    yield twin, relay
    relay.close()
    twin.close()


def test_switches_and_reads_back_over_mqtt(plug):
    twin, relay = plug
    assert isinstance(relay, Relay) and isinstance(relay, PowerMeter)
    assert relay.read_back() is False
    relay.on()
    assert twin.device.output and relay.read_back() is True
    twin.device.load_watts = 640
    assert relay.watts() == 640.0
    relay.off()
    assert not twin.device.output and relay.read_back() is False
    assert relay.watts() == 0.0


def test_a_plug_that_stops_answering_is_a_failed_switch(plug):
    twin, relay = plug
    relay.read_back()  # connected and subscribed
    alarms: list[str] = []
    switch = Switch(
        relay, alarm=lambda reason, _: alarms.append(reason), clock=FakeClock(), retry_seconds=5
    )
    twin.answering = False
    relay._timeout = 0.3
    with pytest.raises(RelayError, match="no answer"):
        relay.on()
    with pytest.raises(SensorError):
        relay.watts()
    assert switch.on() is False and alarms == [ALARM_RELAY_UNREACHABLE]


def test_no_broker_is_a_relay_error():
    relay = TasmotaMqttRelay("127.0.0.1", port=1, topic="nobody", timeout=0.3)
    try:
        with pytest.raises(RelayError, match="not connected"):
            relay.on()
    finally:
        relay.close()
