"""The production broker: deploy/mosquitto/toolgate.conf with the users and ACL written by
`gate_broker_config`, checked on a real Mosquitto. One gate's MQTT password must not let it read
or write another gate's topics, take a share of the bridges' intake, take over anyone's
connection or session, or push oversized messages to the bridges."""

from __future__ import annotations

import io
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.core.management import CommandError, call_command
from paho.mqtt.enums import CallbackAPIVersion

from access.bridge import BridgeRunner, GateBridge
from access.broker import BrokerUser, acl_file, bridge_login, mosquitto_password_hash
from access.management.commands.gate_bridge import _client_id
from access.models import UsageSession
from access.mqtt import BrokerSettings
from gate_agent import protocol as p
from gate_agent.config import AgentConfig, BrokerConfig
from gate_agent.hardware.simulated import RecordingIndicator, ScriptedReader, SimulatedRelay
from gate_agent.runner import Runner
from tests.access.conftest import build_scene
from tests.access.mosquitto import PRODUCTION_CONFIG, Mosquitto, production_config, wait_for
from tests.factories.access import DEVICE_MQTT_PASSWORD, GateDeviceFactory

pytestmark = pytest.mark.mosquitto
BRIDGE_PASSWORD = "bridge-password-for-tests"
DEADLINE = 10.0
PROBE = b"probe"


class Peer:
    """A raw MQTT v5 connection: what it received, and whether the broker dropped it (it never
    reconnects on its own, so a connection that was kicked off stays off)."""

    def __init__(
        self,
        port: int,
        username: str,
        password: str,
        *,
        client_id: str | None = None,
        clean_start: bool = True,
    ) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.dropped = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id or f"t-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=False,
        )
        self.client.username_pw_set(username, password)
        connected, outcome = threading.Event(), {}

        def on_connect(client, userdata, flags, reason, props):
            outcome["accepted"] = not reason.is_failure
            connected.set()

        self.client.on_connect = on_connect
        self.client.on_disconnect = lambda *args: self.dropped.set()
        self.client.on_message = lambda c, u, m: self.received.append((m.topic, m.payload))
        self.client.connect("127.0.0.1", port, clean_start=clean_start)
        self.client.loop_start()
        assert connected.wait(DEADLINE)
        self.accepted = outcome["accepted"]

    def subscribe(self, topic: str) -> list[str]:
        """The broker's reason codes for the subscription."""
        done, codes = threading.Event(), []

        def on_subscribe(client, userdata, mid, reason_codes, props):
            codes.extend(str(code) for code in reason_codes)
            done.set()

        self.client.on_subscribe = on_subscribe
        self.client.subscribe(topic, qos=1)
        assert done.wait(DEADLINE)
        return codes

    def publish(self, topic: str, payload: bytes, *, qos: int = 1) -> bool:
        """Publish and, at QoS 1, wait for the broker's acknowledgement; False when the
        connection is gone."""
        info = self.client.publish(topic, payload, qos=qos)
        if qos and info.rc == mqtt.MQTT_ERR_SUCCESS:
            try:
                info.wait_for_publish(DEADLINE)
            except RuntimeError:
                return False
        return info.rc == mqtt.MQTT_ERR_SUCCESS and (not qos or info.is_published())

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class RecordingBridge:
    """Stands in for `GateBridge` behind a real `BridgeRunner`: records what reaches it."""

    def __init__(self) -> None:
        self.got: list[tuple[str, bytes]] = []

    def handle_many(self, messages):
        self.got.extend(messages)
        return []

    def handle(self, topic, payload):
        return self.handle_many([(topic, payload)])

    def housekeeping(self):
        return []

    def payloads(self, kind: p.Topic) -> list[bytes]:
        """What arrived on topics of `kind`, without the probes of `until_received`."""
        return [
            payload
            for topic, payload in self.got
            if topic.endswith(f"/{kind.value}") and payload != PROBE
        ]


def bridge_broker(port: int, username: str = "toolgate-bridge") -> BrokerSettings:
    return BrokerSettings(
        host="127.0.0.1",
        port=port,
        tls=False,
        username=username,
        password=BRIDGE_PASSWORD,
        ca_file=None,
    )


@contextmanager
def running_bridge(port: int, username: str = "toolgate-bridge", bridge=None) -> Iterator:
    """A real `BridgeRunner` logged in as `username`, connected on both of its connections."""
    runner = BridgeRunner(
        bridge or RecordingBridge(), bridge_broker(port, username), client_id=username
    )
    thread = threading.Thread(target=runner.run, kwargs={"housekeeping_seconds": 3600})
    thread.start()
    try:
        wait_for(runner.connected.is_set, f"bridge {username} to connect")
        yield runner
    finally:
        runner.stop()
        thread.join(timeout=DEADLINE)


def until_received(publisher: Peer, topic: str, bridges: list[RecordingBridge]) -> None:
    """Publish probes until every bridge got one: their subscriptions are in place."""
    end = time.monotonic() + DEADLINE
    while not all(any(t == topic for t, _ in bridge.got) for bridge in bridges):
        if time.monotonic() > end:
            pytest.fail(f"the bridges never subscribed to {topic}")
        publisher.publish(topic, PROBE)
        time.sleep(0.05)


@pytest.fixture
def production_broker(tmp_path, monkeypatch):
    """Starts Mosquitto as in production for the gates registered so far, and the bridges
    named (default: one, `toolgate-bridge`)."""
    started: list[Mosquitto] = []

    def start(*bridges: str) -> Mosquitto:
        monkeypatch.setenv("GATE_BRIDGE_PASSWORD", BRIDGE_PASSWORD)
        monkeypatch.setenv("GATE_BRIDGE_USERNAMES", ",".join(bridges or ["toolgate-bridge"]))
        passwords, acl = tmp_path / "passwords", tmp_path / "acl"
        call_command(
            "gate_broker_config", password_file=passwords, acl_file=acl, stdout=io.StringIO()
        )
        config = production_config(password_file=passwords, acl_file=acl)
        started.append(Mosquitto(tmp_path, extra_config=config).start())
        return started[-1]

    yield start
    for broker in started:
        broker.stop()


def gate(broker: Mosquitto, device, **kwargs) -> Peer:
    peer = Peer(broker.port, device.mqtt_username, DEVICE_MQTT_PASSWORD, **kwargs)
    assert peer.accepted
    return peer


def test_acl_gives_each_gate_only_its_own_topics():
    text = acl_file([BrokerUser("gate-a", "x", "a"), BrokerUser("toolgate-bridge", "y", None)])
    assert "user gate-a\ntopic write toolgate/v1/gates/a/request" in text
    assert "topic read toolgate/v1/gates/a/reply" in text
    assert "topic readwrite toolgate/v1/gates/#" in text
    assert "gates/+/" not in text and "gates/#" not in text.split("user toolgate-bridge")[0]


def test_password_hash_is_salted():
    assert mosquitto_password_hash("pw") != mosquitto_password_hash("pw")


def test_the_readme_shows_the_production_config_the_tests_run():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"`/etc/mosquitto/conf.d/toolgate.conf`.*?```\n(.*?)```", readme, re.S)
    shown = "\n".join(line.strip() for line in block.group(1).splitlines())
    assert shown.strip() == PRODUCTION_CONFIG.read_text().strip()


def test_real_mosquitto_enforces_per_device_credentials_and_topics(db, production_broker):
    mine, theirs = GateDeviceFactory(), GateDeviceFactory()
    broker = production_broker()
    peers = []
    try:
        assert not Peer(broker.port, mine.mqtt_username, "wrong password").accepted
        bridge = Peer(broker.port, "toolgate-bridge", BRIDGE_PASSWORD)
        own = gate(broker, mine)
        peers += [bridge, own]
        assert bridge.accepted
        bridge.subscribe(f"{p.TOPIC_PREFIX}/#")
        own.subscribe(f"{p.TOPIC_PREFIX}/#")  # the ACL filters what it may read

        own.publish(p.gate_topic(mine.device_id, p.Topic.REQUEST), b"mine")
        own.publish(p.gate_topic(theirs.device_id, p.Topic.REQUEST), b"spoof")
        own.publish(p.gate_topic(mine.device_id, p.Topic.REPLY), b"self-reply")
        bridge.publish(p.gate_topic(mine.device_id, p.Topic.REPLY), b"for-me")
        bridge.publish(p.gate_topic(theirs.device_id, p.Topic.REPLY), b"not-for-me")
        done = (p.gate_topic(theirs.device_id, p.Topic.HEARTBEAT), b"done")
        bridge.publish(*done)
        # The bridge saw its own marker, so everything before it has been routed.
        wait_for(lambda: done in bridge.received and own.received, "the marker")
        assert (p.gate_topic(mine.device_id, p.Topic.REQUEST), b"mine") in bridge.received
        assert all(payload not in {b"spoof", b"self-reply"} for _, payload in bridge.received)
        assert [payload for _, payload in own.received] == [b"for-me"]
    finally:
        for peer in peers:
            peer.close()


def test_a_gate_cannot_take_a_share_of_the_bridges_badge_requests(db, production_broker):
    """A gate subscribing to the bridges' documented shared group (or any other) joins a group
    of its own: every request of another gate still reaches the bridge."""
    rogue, victim = GateDeviceFactory(), GateDeviceFactory()
    broker = production_broker()
    attacker, scanner = gate(broker, rogue), gate(broker, victim)
    recording = RecordingBridge()
    try:
        for group in ("toolgate-bridge", "toolgate", "bridge"):
            attacker.subscribe(p.shared_subscription(p.Topic.REQUEST, group))
        with running_bridge(broker.port, bridge=recording):
            topic = p.gate_topic(victim.device_id, p.Topic.REQUEST)
            until_received(scanner, topic, [recording])
            sent = [f"scan-{n}".encode() for n in range(20)]
            for payload in sent:
                scanner.publish(topic, payload)
            wait_for(
                lambda: len(recording.payloads(p.Topic.REQUEST)) >= len(sent),
                "every request to reach the bridge",
            )
            assert recording.payloads(p.Topic.REQUEST) == sent
        assert attacker.received == []
    finally:
        attacker.close()
        scanner.close()


def test_bridges_with_their_own_users_split_the_requests_between_them(db, production_broker):
    """Each bridge logs in as its own pair of users; they share the requests, each handled once."""
    device = GateDeviceFactory()
    broker = production_broker("toolgate-bridge-a", "toolgate-bridge-b")
    scanner = gate(broker, device)
    first, second = RecordingBridge(), RecordingBridge()
    try:
        with (
            running_bridge(broker.port, "toolgate-bridge-a", first),
            running_bridge(broker.port, "toolgate-bridge-b", second),
        ):
            topic = p.gate_topic(device.device_id, p.Topic.REQUEST)
            until_received(scanner, topic, [first, second])
            sent = [f"scan-{n}".encode() for n in range(20)]
            for payload in sent:
                scanner.publish(topic, payload)
            handled = lambda: first.payloads(p.Topic.REQUEST) + second.payloads(p.Topic.REQUEST)  # noqa: E731
            wait_for(lambda: len(handled()) >= len(sent), "every request to be handled")
            assert sorted(handled()) == sorted(sent)
            assert first.payloads(p.Topic.REQUEST) and second.payloads(p.Topic.REQUEST)
    finally:
        scanner.close()


def test_one_gates_password_cannot_kick_another_gate_or_a_bridge_off(db, production_broker):
    """Whatever client id a gate asks for, the broker gives it its username: connecting with
    another gate's or a bridge's client id ends nobody's connection."""
    rogue, victim = GateDeviceFactory(), GateDeviceFactory()
    broker = production_broker()
    victim_gate = gate(broker, victim, client_id=f"toolgate-gate-{victim.device_id}")
    bridge_live = Peer(broker.port, "toolgate-bridge", BRIDGE_PASSWORD, client_id="toolgate-bridge")
    bridge_durable = Peer(
        broker.port, "toolgate-bridge-events", BRIDGE_PASSWORD, client_id="toolgate-bridge-events"
    )
    attackers = []
    try:
        assert bridge_live.accepted and bridge_durable.accepted
        for stolen in (
            f"toolgate-gate-{victim.device_id}",
            victim.mqtt_username,
            "toolgate-bridge",
            "toolgate-bridge-events",
        ):
            attackers.append(gate(broker, rogue, client_id=stolen))
        # A round trip on each victim after the attackers' CONNACKs: a takeover would have
        # closed it before.
        victims = {"gate": victim_gate, "bridge": bridge_live, "bridge events": bridge_durable}
        heartbeat = p.gate_topic(victim.device_id, p.Topic.HEARTBEAT)
        kicked = [
            name
            for name, peer in victims.items()
            if not peer.publish(heartbeat, b"still here") or peer.dropped.is_set()
        ]
        assert kicked == []
    finally:
        for peer in (victim_gate, bridge_live, bridge_durable, *attackers):
            peer.close()


def test_a_gate_cannot_take_over_the_bridges_persistent_session(db, production_broker):
    """Event uploads queued for a bridge that is down survive a gate connecting with the
    bridge's client id and a clean start: the restarted bridge still gets every one."""
    rogue, uploader = GateDeviceFactory(), GateDeviceFactory()
    broker = production_broker()
    events = p.gate_topic(uploader.device_id, p.Topic.EVENTS)
    sender = gate(broker, uploader)
    try:
        first = RecordingBridge()
        with running_bridge(broker.port, bridge=first):
            until_received(sender, events, [first])
        queued = [f"upload-{n}".encode() for n in range(5)]
        for payload in queued:
            sender.publish(events, payload)  # acknowledged: the gate would forget them now
        gate(broker, rogue, client_id="toolgate-bridge-events", clean_start=True).close()

        restarted = RecordingBridge()
        with running_bridge(broker.port, bridge=restarted):
            wait_for(
                lambda: len(restarted.payloads(p.Topic.EVENTS)) >= len(queued),
                "the queued uploads to reach the restarted bridge",
            )
        assert restarted.payloads(p.Topic.EVENTS) == queued
    finally:
        sender.close()


def test_the_broker_forwards_no_message_over_the_protocols_size_limit(db, production_broker):
    """A payload of exactly the protocol's limit goes through; one byte more is not forwarded,
    and a 4 MiB packet gets its sender disconnected instead."""
    device, other = GateDeviceFactory(), GateDeviceFactory()
    broker = production_broker()
    sender, flooder = gate(broker, device), gate(broker, other)
    heartbeat = p.gate_topic(device.device_id, p.Topic.HEARTBEAT)
    recording = RecordingBridge()
    try:
        with running_bridge(broker.port, bridge=recording):
            until_received(sender, heartbeat, [recording])
            largest = b"x" * p.MAX_PAYLOAD_BYTES
            sender.publish(heartbeat, largest)
            sender.publish(heartbeat, largest + b"x", qos=0)
            sender.publish(heartbeat, b"marker")  # same connection: handled after the above
            huge = b"x" * (4 << 20)
            flooder.publish(p.gate_topic(other.device_id, p.Topic.HEARTBEAT), huge, qos=0)
            wait_for(
                lambda: flooder.dropped.is_set() or huge in recording.payloads(p.Topic.HEARTBEAT),
                "the broker to refuse or forward the 4 MiB message",
            )
            sender.publish(heartbeat, b"second marker")
            wait_for(
                lambda: b"second marker" in recording.payloads(p.Topic.HEARTBEAT),
                "the markers to reach the bridge",
            )
            assert [len(payload) for payload in recording.payloads(p.Topic.HEARTBEAT)] == [
                p.MAX_PAYLOAD_BYTES,
                len(b"marker"),
                len(b"second marker"),
            ]
    finally:
        sender.close()
        flooder.close()


@pytest.mark.django_db(transaction=True)
def test_a_scan_is_answered_and_its_session_recorded_on_the_production_broker(
    production_broker, tmp_path
):
    """The real bridge (both connections, each its own user) and the real agent (its username
    as client id) work on the hardened broker."""
    scene = build_scene()
    device = GateDeviceFactory(machine=scene.machine)
    broker = production_broker()
    relay, reader = SimulatedRelay(), ScriptedReader()
    config = AgentConfig(
        device_id=device.device_id,
        secret=device.secret,
        state_dir=tmp_path / "gate",
        broker=BrokerConfig(
            port=broker.port, username=device.mqtt_username, password=DEVICE_MQTT_PASSWORD
        ),
    )
    agent = Runner(config, relay=relay, reader=reader, indicator=RecordingIndicator())
    stop = threading.Event()
    agent_thread = threading.Thread(target=agent.run, args=(stop,))
    with running_bridge(broker.port, bridge=GateBridge()):
        agent_thread.start()
        try:
            wait_for(lambda: agent.agent.allowlist is not None, "the gate's allow-list")
            reader.scan(scene.badge_uid)
            wait_for(lambda: relay.is_on, "the relay to switch on")
            wait_for(UsageSession.objects.exists, "the bridge to record the session")
        finally:
            stop.set()
            agent_thread.join(timeout=DEADLINE)


@pytest.mark.parametrize(
    ("names", "error"),
    [
        ("gate-laser", "not starting with 'gate-'"),
        ("bridge/a", "letters, digits"),
        ("a,a-events", "given twice"),
    ],
)
def test_gate_broker_config_refuses_bridge_names_that_would_clash(
    db, tmp_path, monkeypatch, names, error
):
    monkeypatch.setenv("GATE_BRIDGE_PASSWORD", BRIDGE_PASSWORD)
    monkeypatch.setenv("GATE_BRIDGE_USERNAMES", names)
    with pytest.raises(CommandError, match=error):
        call_command("gate_broker_config", password_file=tmp_path / "pw", acl_file=tmp_path / "acl")


def test_gate_broker_config_writes_a_live_and_an_events_user_per_bridge(db, tmp_path, monkeypatch):
    GateDeviceFactory(device_id="laser-1")
    monkeypatch.setenv("GATE_BRIDGE_PASSWORD", BRIDGE_PASSWORD)
    monkeypatch.setenv("GATE_BRIDGE_USERNAMES", "bridge-a, bridge-b")
    passwords, acl = tmp_path / "pw", tmp_path / "acl"
    call_command("gate_broker_config", password_file=passwords, acl_file=acl, stdout=io.StringIO())
    users = [line.split(":", 1)[0] for line in passwords.read_text().splitlines()]
    assert users == ["bridge-a", "bridge-a-events", "bridge-b", "bridge-b-events", "gate-laser-1"]
    assert oct(passwords.stat().st_mode & 0o777) == "0o600"
    assert "user bridge-b-events\ntopic readwrite toolgate/v1/gates/#" in acl.read_text()


def test_each_bridge_connection_logs_in_as_its_client_id():
    broker = bridge_broker(1883, "toolgate-bridge-a")
    assert bridge_login(broker, "toolgate-bridge-a-events").username == "toolgate-bridge-a-events"
    anonymous = BrokerSettings("127.0.0.1", 1883, False, None, None, None)
    assert bridge_login(anonymous, "any").username is None
    assert _client_id(broker, None) == "toolgate-bridge-a"
    assert _client_id(anonymous, "dev-bridge") == "dev-bridge"
    with pytest.raises(CommandError, match="differs from the username"):
        _client_id(broker, "another-id")
