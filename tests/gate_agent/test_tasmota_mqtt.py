"""Tasmota over MQTT on a real Mosquitto the test starts (tests/access/mosquitto.py), against a
twin that answers `cmnd/<topic>/...` as the firmware does. The broker wants logins and has an
ACL as a space's would: the plugs' login and the agent's own for the plugs."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from gate_agent.hardware.tasmota_mqtt import TasmotaMqttRelay
from gate_agent.hardware.twins import TasmotaMqttTwin
from gate_agent.interfaces import PowerMeter, Relay, RelayError, SensorError
from gate_agent.switch import ALARM_RELAY_UNREACHABLE, Switch
from tests.access.mosquitto import Mosquitto

from .conftest import FakeClock

pytestmark = pytest.mark.mosquitto
TOPIC = "tasmota_4F2A1C"
PLUG_LOGIN = ("tasmota-plugs", "plug-password-0123")
AGENT_LOGIN = ("toolgate-plugs", "agent-password-0123")
# The plugs may touch their own topics; the agent's login drives them and nothing else.
ACL = """\
user tasmota-plugs
topic readwrite cmnd/#
topic readwrite stat/#
topic readwrite tele/#

user toolgate-plugs
topic write cmnd/#
topic read stat/#
"""


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tasmota-broker")
    passwords, acl = directory / "passwd", directory / "acl"
    passwords.touch()
    binary = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    for user, password in (PLUG_LOGIN, AGENT_LOGIN):
        subprocess.run(  # noqa: S603 - fixed binary, the test's own file
            [binary, "-b", str(passwords), user, password], check=True
        )
    acl.write_text(ACL)
    config = f"allow_anonymous false\npassword_file {passwords}\nacl_file {acl}\n"
    mosquitto = Mosquitto(directory, extra_config=config).start()
    yield mosquitto
    mosquitto.stop()


@pytest.fixture
def plug(broker):
    user, password = PLUG_LOGIN
    twin = TasmotaMqttTwin(
        host="127.0.0.1", port=broker.port, topic=TOPIC, username=user, password=password
    )
    relay = _relay(broker, *AGENT_LOGIN)
    yield twin, relay
    relay.close()
    twin.close()


def _relay(broker: Mosquitto, username: str, password: str, timeout: float = 2.0):
    return TasmotaMqttRelay(
        "127.0.0.1",
        port=broker.port,
        topic=TOPIC,
        username=username,
        password=password,
        timeout=timeout,
    )


def test_switches_and_reads_back_over_mqtt(plug):
    twin, relay = plug
    assert isinstance(relay, Relay) and isinstance(relay, PowerMeter)
    assert relay.read_back() is False
    relay.on()
    assert twin.output and relay.read_back() is True
    twin.load_watts = 640
    assert relay.watts() == 640.0
    relay.off()
    assert not twin.output and relay.read_back() is False
    assert relay.watts() == 0.0


def test_a_plug_that_stops_answering_is_a_failed_switch(plug):
    twin, relay = plug
    relay.read_back()  # connected and subscribed
    alarms: list[str] = []
    switch = Switch(
        relay, alarm=lambda reason, _: alarms.append(reason), clock=FakeClock(), retry_seconds=5
    )
    twin.hang()
    relay._timeout = 0.3
    with pytest.raises(RelayError, match="no answer"):
        relay.on()
    with pytest.raises(SensorError):
        relay.watts()
    assert switch.on() is False and alarms == [ALARM_RELAY_UNREACHABLE]
    twin.resume()  # plugged in again: the next scan switches it
    assert switch.on() is True and twin.output


def test_a_refused_login_is_a_relay_error(broker):
    relay = _relay(broker, AGENT_LOGIN[0], "not-the-password", timeout=0.5)
    try:
        with pytest.raises(RelayError, match="not connected"):
            relay.on()
    finally:
        relay.close()


def test_no_broker_is_a_relay_error():
    relay = TasmotaMqttRelay("127.0.0.1", port=1, topic="nobody", timeout=0.3)
    try:
        with pytest.raises(RelayError, match="not connected"):
            relay.on()
    finally:
        relay.close()
