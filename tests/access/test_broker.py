"""Mosquitto credentials and ACL written by `gate_broker_config`, checked on a real broker."""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt
import pytest
from django.core.management import call_command
from paho.mqtt.enums import CallbackAPIVersion

from access.broker import BrokerUser, acl_file, mosquitto_password_hash
from gate_agent import protocol as p
from tests.access.mosquitto import Mosquitto
from tests.factories.access import DEVICE_MQTT_PASSWORD, GateDeviceFactory

pytestmark = pytest.mark.mosquitto
BRIDGE_PASSWORD = "bridge-password-for-tests"


def connect(port: int, username: str, password: str) -> tuple[mqtt.Client, list, bool]:
    received: list = []
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"t-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )
    client.username_pw_set(username, password)
    connected = threading.Event()
    outcome = {}

    def on_connect(c, userdata, flags, reason, props):
        outcome["failure"] = reason.is_failure
        connected.set()

    client.on_connect = on_connect
    client.on_message = lambda c, u, m: received.append((m.topic, m.payload))
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert connected.wait(10)
    return client, received, not outcome["failure"]


def subscribe(client: mqtt.Client, topic: str) -> None:
    done = threading.Event()
    client.on_subscribe = lambda *args: done.set()
    client.subscribe(topic, qos=1)
    assert done.wait(10)


def test_acl_gives_each_gate_only_its_own_topics():
    text = acl_file([BrokerUser("gate-a", "x", "a"), BrokerUser("toolgate-bridge", "y", None)])
    assert "user gate-a\ntopic write toolgate/v1/gates/a/request" in text
    assert "topic read toolgate/v1/gates/a/reply" in text
    assert "topic readwrite toolgate/v1/gates/#" in text
    assert "gates/+/" not in text and "gates/#" not in text.split("user toolgate-bridge")[0]


def test_password_hash_is_salted():
    assert mosquitto_password_hash("pw") != mosquitto_password_hash("pw")


def test_real_mosquitto_enforces_per_device_credentials_and_topics(db, tmp_path, monkeypatch):
    mine, theirs = GateDeviceFactory(), GateDeviceFactory()
    monkeypatch.setenv("GATE_BRIDGE_PASSWORD", BRIDGE_PASSWORD)
    passwords, acl = tmp_path / "passwords", tmp_path / "acl"
    call_command("gate_broker_config", password_file=passwords, acl_file=acl)
    assert oct(passwords.stat().st_mode & 0o777) == "0o600"
    broker = Mosquitto(
        tmp_path,
        extra_config=f"allow_anonymous false\npassword_file {passwords}\nacl_file {acl}\n",
    ).start()
    clients = []
    try:
        _, _, ok = connect(broker.port, mine.mqtt_username, "wrong password")
        assert not ok
        bridge, bridge_got, ok = connect(broker.port, "toolgate-bridge", BRIDGE_PASSWORD)
        assert ok
        gate, gate_got, ok = connect(broker.port, mine.mqtt_username, DEVICE_MQTT_PASSWORD)
        assert ok
        clients += [bridge, gate]
        subscribe(bridge, f"{p.TOPIC_PREFIX}/#")
        subscribe(gate, f"{p.TOPIC_PREFIX}/#")  # the ACL filters what it may read

        gate.publish(
            p.gate_topic(mine.device_id, p.Topic.REQUEST), b"mine", qos=1
        ).wait_for_publish(5)
        gate.publish(
            p.gate_topic(theirs.device_id, p.Topic.REQUEST), b"spoof", qos=1
        ).wait_for_publish(5)
        gate.publish(
            p.gate_topic(mine.device_id, p.Topic.REPLY), b"self-reply", qos=1
        ).wait_for_publish(5)
        bridge.publish(
            p.gate_topic(mine.device_id, p.Topic.REPLY), b"for-me", qos=1
        ).wait_for_publish(5)
        bridge.publish(
            p.gate_topic(theirs.device_id, p.Topic.REPLY), b"not-for-me", qos=1
        ).wait_for_publish(5)
        bridge.publish("toolgate/v1/done", b"", qos=1).wait_for_publish(5)
        # The bridge saw its own marker, so everything before it has been routed.
        deadline = threading.Event()
        for _ in range(100):
            if any(topic == "toolgate/v1/done" for topic, _ in bridge_got) and gate_got:
                break
            deadline.wait(0.05)
        assert (p.gate_topic(mine.device_id, p.Topic.REQUEST), b"mine") in bridge_got
        assert all(payload not in {b"spoof", b"self-reply"} for _, payload in bridge_got)
        assert [payload for _, payload in gate_got] == [b"for-me"]
    finally:
        for client in clients:
            client.disconnect()
            client.loop_stop()
        broker.stop()
