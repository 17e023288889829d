"""End to end against the real Mosquitto at 127.0.0.1:1883: the agent's MQTT runner, a tiny
fake site answering with signed replies, and the retained status with its last will."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gate_agent import protocol as p
from gate_agent.config import AgentConfig, BrokerConfig
from gate_agent.hardware.simulated import RecordingIndicator, ScriptedReader, SimulatedRelay
from gate_agent.runner import Runner, client_id
from tests.access.mosquitto import wait_for

pytestmark = pytest.mark.mosquitto

HOST, PORT = "127.0.0.1", 1883
SECRET = "e2e-secret-0123456789-abcdefghijkl"
DEADLINE = 10.0


def site_client(device_id: str) -> tuple[mqtt.Client, dict[str, list[bytes]]]:
    """A test-side 'site': records everything the gate publishes and answers its requests."""
    received: dict[str, list[bytes]] = {}
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"test-site-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )

    def on_message(client, userdata, message):
        kind = message.topic.rsplit("/", 1)[1]
        received.setdefault(kind, []).append(message.payload)
        if kind == p.Topic.REQUEST:
            request = p.parse_signed(
                p.BadgeRequest, message.payload, device_id=device_id, secret=SECRET
            )
            reply = p.build_reply(
                request,
                secret=SECRET,
                allowed=True,
                reason="allowed_booking",
                message="Welcome",
                member_name="Ada",
                now=time.time(),
                grant_end=int(time.time()) + 3600,
            )
            client.publish(p.gate_topic(device_id, p.Topic.REPLY), reply.to_json(), qos=1)

    client.on_message = on_message
    client.connect(HOST, PORT)
    client.loop_start()
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.subscribe(f"{p.TOPIC_PREFIX}/{device_id}/#", qos=1)
    assert subscribed.wait(DEADLINE)
    return client, received


@pytest.fixture
def device_id() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def site(device_id):
    client, received = site_client(device_id)
    yield received
    # Leave no retained status behind on the shared broker.
    client.publish(
        p.gate_topic(device_id, p.Topic.STATUS), b"", qos=1, retain=True
    ).wait_for_publish(timeout=DEADLINE)
    client.disconnect()
    client.loop_stop()


def test_allowed_scan_turns_the_relay_on_over_mqtt(device_id, site, tmp_path):
    relay, reader = SimulatedRelay(), ScriptedReader()
    config = AgentConfig(device_id=device_id, secret=SECRET, state_dir=tmp_path)
    runner = Runner(config, relay=relay, reader=reader, indicator=RecordingIndicator())
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    try:
        wait_for(lambda: p.Topic.STATUS in site, "the online status")
        assert p.Status.from_json(site[p.Topic.STATUS][-1]).state == p.STATUS_ONLINE
        reader.scan("04:A3:2B:1C")
        wait_for(lambda: relay.is_on, "the relay to switch on")
        wait_for(lambda: not runner.agent.unsent_events(), "the session start to be acknowledged")
        # The broker's PUBACK can come before the site's copy arrives.
        wait_for(lambda: p.Topic.EVENTS in site, "the site to receive the session start")
        events = [
            e
            for payload in site[p.Topic.EVENTS]
            for e in p.parse_signed(
                p.EventBatch, payload, device_id=device_id, secret=SECRET
            ).events
        ]
        assert [e.kind for e in events] == [p.EVENT_SESSION_START]
    finally:
        stop.set()
        thread.join(timeout=DEADLINE)
    assert not relay.is_on
    wait_for(
        lambda: p.Status.from_json(site[p.Topic.STATUS][-1]).state == p.STATUS_OFFLINE,
        "the clean offline status",
    )


def test_unclean_disconnect_publishes_the_retained_offline_will(device_id, site, tmp_path):
    env = {**os.environ, "TOOLGATE_GATE_SECRET": SECRET}
    agent = subprocess.Popen(  # noqa: S603 - our own module with fixed arguments
        [sys.executable, "-m", "gate_agent", "--simulate", "--device-id", device_id,
         "--state-dir", str(tmp_path), "--host", HOST, "--port", str(PORT)],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        wait_for(lambda: p.Topic.STATUS in site, "the online status")
        assert p.Status.from_json(site[p.Topic.STATUS][-1]).state == p.STATUS_ONLINE
    finally:
        agent.send_signal(signal.SIGKILL)  # no DISCONNECT packet: the broker sends the will
        agent.wait(timeout=DEADLINE)
    wait_for(
        lambda: p.Status.from_json(site[p.Topic.STATUS][-1]).state == p.STATUS_OFFLINE,
        "the last will",
    )
    # A newcomer (say, a restarted bridge) sees the retained status.
    newcomer, late = site_client(device_id)
    try:
        wait_for(lambda: p.Topic.STATUS in late, "the retained status")
        assert p.Status.from_json(late[p.Topic.STATUS][-1]).state == p.STATUS_OFFLINE
    finally:
        newcomer.disconnect()
        newcomer.loop_stop()


def test_the_agent_asks_for_its_username_as_client_id(tmp_path):
    """The production broker makes a username the client id anyway; asking for it keeps the
    id the same on every broker. Without credentials the id comes from the device id."""
    named = AgentConfig(
        device_id="laser-1",
        secret=SECRET,
        state_dir=tmp_path,
        broker=BrokerConfig(username="gate-laser-1", password="pw"),
    )
    assert client_id(named) == "gate-laser-1"
    anonymous = AgentConfig(device_id="laser-1", secret=SECRET, state_dir=tmp_path)
    assert client_id(anonymous) == "toolgate-gate-laser-1"
