"""The development broker with real paho-mqtt v5 clients, the way the bridge and the gates use it."""

from __future__ import annotations

import queue
import socket
import struct
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from access.devbroker import BrokerThread, DevBroker

TIMEOUT = 5.0


@pytest.fixture
def broker():
    with BrokerThread() as server:
        yield server


class Client:
    """A paho v5 client whose received messages wait in a queue."""

    def __init__(
        self,
        broker: BrokerThread,
        client_id: str | None = None,
        *,
        clean_start: bool = True,
        session_expiry: int | None = None,
        will: tuple[str, bytes] | None = None,
        manual_ack: bool = False,
    ) -> None:
        self.client_id = client_id or f"test-{uuid.uuid4().hex[:8]}"
        self.paho = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5
        )
        self.paho.manual_ack_set(manual_ack)
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.session_present = None
        self.paho.on_message = lambda client, userdata, message: self.messages.put(message)
        self.paho.on_connect = self._on_connect
        self.paho.on_subscribe = lambda *args: self.subscribed.set()
        if will:
            self.paho.will_set(will[0], will[1], qos=1, retain=True)
        properties = None
        if session_expiry is not None:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = session_expiry
        self.paho.connect(
            broker.host, broker.port, keepalive=30, clean_start=clean_start, properties=properties
        )
        self.paho.loop_start()
        assert self.connected.wait(TIMEOUT), "no CONNACK"

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        assert not reason.is_failure, reason
        self.session_present = flags.session_present
        self.connected.set()

    def subscribe(self, *topic_filters: str) -> None:
        self.subscribed.clear()
        self.paho.subscribe([(topic_filter, 1) for topic_filter in topic_filters])
        assert self.subscribed.wait(TIMEOUT), "no SUBACK"

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Publish and, at QoS 1, wait for the broker's PUBACK."""
        info = self.paho.publish(topic, payload, qos=qos, retain=retain)
        if qos:
            info.wait_for_publish(TIMEOUT)
            assert info.is_published()

    def next(self) -> mqtt.MQTTMessage:
        return self.messages.get(timeout=TIMEOUT)

    def received_until(self, sentinel: str) -> list[bytes]:
        """Payloads received before `sentinel` arrives on `sentinel`'s own topic."""
        payloads = []
        while (message := self.next()).topic != sentinel:
            payloads.append(message.payload)
        return payloads

    def close(self) -> None:
        self.paho.disconnect()
        self.paho.loop_stop()

    def drop(self) -> None:
        """Vanish without DISCONNECT, as a gate losing power does."""
        self.paho.loop_stop()
        self.paho.socket().close()


def test_qos1_publish_is_acknowledged_and_delivered_at_qos1(broker):
    subscriber, publisher = Client(broker), Client(broker)
    subscriber.subscribe("toolgate/v1/gates/+/request")
    publisher.publish("toolgate/v1/gates/laser-a/request", b"scan")  # waits for the PUBACK
    message = subscriber.next()
    assert (message.topic, message.payload, message.qos) == (
        "toolgate/v1/gates/laser-a/request",
        b"scan",
        1,
    )


def test_retained_message_reaches_a_late_subscriber_and_an_empty_one_clears_it(broker):
    publisher = Client(broker)
    publisher.publish("toolgate/v1/gates/laser-a/allowlist", b"list", retain=True)
    late = Client(broker)
    late.subscribe("toolgate/v1/gates/laser-a/allowlist")
    message = late.next()
    assert (message.payload, message.retain) == (b"list", True)

    publisher.publish("toolgate/v1/gates/laser-a/allowlist", b"", retain=True)
    later = Client(broker)
    later.subscribe("toolgate/v1/gates/laser-a/allowlist", "sentinel")
    publisher.publish("sentinel", b"")
    assert later.received_until("sentinel") == []


def test_last_will_is_published_and_retained_when_a_client_vanishes(broker):
    watcher = Client(broker)
    watcher.subscribe("toolgate/v1/gates/laser-a/status")
    gate = Client(broker, will=("toolgate/v1/gates/laser-a/status", b"offline"))
    gate.drop()
    assert watcher.next().payload == b"offline"
    late = Client(broker)
    late.subscribe("toolgate/v1/gates/laser-a/status")
    assert late.next().payload == b"offline"


def test_no_last_will_after_a_clean_disconnect(broker):
    watcher = Client(broker)
    watcher.subscribe("status", "sentinel")
    Client(broker, will=("status", b"offline")).close()
    Client(broker).publish("sentinel", b"")
    assert watcher.received_until("sentinel") == []


def test_shared_subscription_gives_each_message_to_exactly_one_member(broker):
    members = [Client(broker) for _ in range(2)]
    for member in members:
        member.subscribe("$share/toolgate-bridge/toolgate/v1/gates/+/request", "sentinel")
    publisher = Client(broker)
    for number in range(10):
        publisher.publish(f"toolgate/v1/gates/gate-{number}/request", str(number).encode())
    publisher.publish("sentinel", b"")  # after every request, on each member's plain subscription

    received = [member.received_until("sentinel") for member in members]
    assert sorted(received[0] + received[1], key=int) == [str(n).encode() for n in range(10)]
    assert all(received), "the group's members should share the load"


def test_persistent_session_gets_qos1_messages_published_while_it_was_offline(broker):
    bridge = Client(broker, "bridge-events", clean_start=False, session_expiry=3600)
    bridge.subscribe("toolgate/v1/gates/+/events")
    bridge.close()
    Client(broker).publish("toolgate/v1/gates/laser-a/events", b"upload")

    back = Client(broker, "bridge-events", clean_start=False, session_expiry=3600)
    assert back.session_present
    assert back.next().payload == b"upload"


def test_session_without_expiry_ends_with_its_connection(broker):
    first = Client(broker, "live", clean_start=False)
    first.subscribe("toolgate/#")
    first.close()
    Client(broker).publish("toolgate/x", b"missed")
    again = Client(broker, "live", clean_start=False)
    assert not again.session_present
    assert again.messages.empty()


def test_unacknowledged_message_is_delivered_again_when_the_session_resumes(broker):
    bridge = Client(
        broker, "bridge-events", clean_start=False, session_expiry=3600, manual_ack=True
    )
    bridge.subscribe("toolgate/v1/gates/+/events")
    Client(broker).publish("toolgate/v1/gates/laser-a/events", b"upload")
    assert bridge.next().payload == b"upload"  # and never acknowledged
    bridge.close()

    back = Client(broker, "bridge-events", clean_start=False, session_expiry=3600)
    message = back.next()
    assert (message.payload, message.dup) == (b"upload", True)


@pytest.mark.parametrize(
    ("topic_filter", "matching"),
    [
        ("toolgate/v1/gates/+/status", ["toolgate/v1/gates/a/status"]),
        ("toolgate/#", ["toolgate", "toolgate/v1/gates/a/status", "toolgate/v1/gates/b/request"]),
        ("+/v1/+/a/#", ["toolgate/v1/gates/a/status"]),
        ("toolgate/v1/gates/a/status", ["toolgate/v1/gates/a/status"]),
    ],
)
def test_wildcard_subscriptions_get_exactly_the_matching_topics(broker, topic_filter, matching):
    subscriber, publisher = Client(broker), Client(broker)
    subscriber.subscribe(topic_filter, "sentinel")
    topics = ["toolgate", "toolgate/v1/gates/a/status", "toolgate/v1/gates/b/request", "other/a"]
    for topic in topics:
        publisher.publish(topic, topic.encode())
    publisher.publish("sentinel", b"")
    assert subscriber.received_until("sentinel") == [topic.encode() for topic in matching]


def _raw_connect(*, keepalive: int = 30, will: tuple[str, bytes] | None = None) -> bytes:
    flags = 0b0000_0010 | (0b0010_0100 if will else 0)  # clean start; will, retained
    body = b"\x00\x04MQTT\x05" + bytes([flags]) + struct.pack("!H", keepalive) + b"\x00"
    body += b"\x00\x03raw"
    if will:
        body += b"\x00" + struct.pack("!H", len(will[0])) + will[0].encode()
        body += struct.pack("!H", len(will[1])) + will[1]
    return bytes([0x10, len(body)]) + body


def _closed_by_broker(sock: socket.socket) -> bool:
    """Reads until the broker hangs up (True), or the timeout passes (False)."""
    sock.settimeout(TIMEOUT)
    try:
        while sock.recv(1024):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(b"\x10\x05\x00\x03MQX", id="connect-with-wrong-protocol-name"),
        pytest.param(b"\x30\x03\x00\x01t", id="publish-before-connect"),
        pytest.param(b"\x10\xff\xff\xff\xff\x7f", id="remaining-length-over-four-bytes"),
        pytest.param(_raw_connect() + b"\x82\x06\x00\x01\x00\x00\x01t", id="subscribe-cut-short"),
        pytest.param(_raw_connect() + b"\x82\x07\x00\x01\x00\x00\x01t\xc0", id="bad-sub-options"),
        pytest.param(_raw_connect() + b"\x34\x04\x00\x01t\x00", id="qos2-publish"),
        pytest.param(_raw_connect() + b"\x30\x05\x00\x01t\x03\x63", id="unknown-property"),
        pytest.param(_raw_connect() + b"\x50\x02\x00\x01", id="pubrec-from-a-client"),
    ],
)
def test_malformed_packets_close_the_connection_and_the_broker_keeps_serving(broker, garbage):
    with socket.create_connection((broker.host, broker.port)) as sock:
        sock.sendall(garbage)
        assert _closed_by_broker(sock)
    subscriber, publisher = Client(broker), Client(broker)
    subscriber.subscribe("still/up")
    publisher.publish("still/up", b"yes")
    assert subscriber.next().payload == b"yes"


def test_mqtt_311_client_is_told_the_version_is_unsupported(broker):
    with socket.create_connection((broker.host, broker.port)) as sock:
        sock.sendall(b"\x10\x0f\x00\x04MQTT\x04\x02\x00\x1e\x00\x03old")
        sock.settimeout(TIMEOUT)
        assert sock.recv(4) == b"\x20\x02\x00\x01"  # CONNACK: unacceptable protocol version
        assert _closed_by_broker(sock)


def test_pingreq_is_answered_and_silence_past_the_keepalive_publishes_the_will(broker):
    watcher = Client(broker)
    watcher.subscribe("status")
    with socket.create_connection((broker.host, broker.port)) as sock:
        sock.sendall(_raw_connect(keepalive=1, will=("status", b"offline")) + b"\xc0\x00")
        sock.settimeout(TIMEOUT)
        answer = b""
        while not answer.endswith(b"\xd0\x00"):  # CONNACK, then PINGRESP
            answer += sock.recv(64)
        assert answer.startswith(b"\x20")
        # Then silence: after 1.5 keepalives the broker gives up on the client.
        assert watcher.next().payload == b"offline"
        assert _closed_by_broker(sock)


def test_refuses_to_bind_a_non_loopback_address():
    with pytest.raises(ValueError, match="loopback"):
        DevBroker(host="0.0.0.0")  # noqa: S104 - the address under test
