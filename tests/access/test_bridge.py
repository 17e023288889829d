"""The bridge's message handling, without a broker: signed replies, refusals, gate reports."""

from __future__ import annotations

import queue
import threading
import time

import pytest
from django.db import OperationalError
from django.utils import timezone
from paho.mqtt.client import MQTTMessage

from access import bridge as bridge_module
from access import outbox
from access.bridge import BridgeRunner, GateBridge
from access.models import (
    AccessEvent,
    AccessSource,
    DeliveryState,
    GateDevice,
    GateMessage,
    UsageSession,
)
from access.mqtt import BrokerSettings
from access.services import access_decide
from gate_agent import protocol as p
from tests.factories.access import GateDeviceFactory
from tests.factories.equipment import MachineFactory


@pytest.fixture
def device(scene) -> GateDevice:
    return GateDeviceFactory(machine=scene.machine)


def request(device: GateDevice, uid: str, *, secret: str | None = None) -> tuple[str, bytes]:
    message = p.sign(
        p.BadgeRequest(
            device_id=device.device_id,
            nonce=p.new_nonce(),
            badge_uid=uid,
            sent_at=int(time.time()),
            firmware="test",
        ),
        secret or device.secret,
    )
    return p.gate_topic(device.device_id, p.Topic.REQUEST), message.to_json()


def only_reply(outgoing, device: GateDevice) -> p.AccessReply:
    [(topic, payload, retain)] = outgoing
    assert topic == p.gate_topic(device.device_id, p.Topic.REPLY) and not retain
    return p.parse_signed(p.AccessReply, payload, device_id=device.device_id, secret=device.secret)


def test_allowed_scan_gets_a_signed_reply_bound_to_the_request(scene, device):
    topic, payload = request(device, scene.badge_uid)
    reply = only_reply(GateBridge().handle(topic, payload), device)
    sent = p.BadgeRequest.from_json(payload)
    assert reply.allowed and reply.reason == "allowed_booking"
    assert reply.nonce == sent.nonce
    assert reply.grant_end == int(scene.booking.end.timestamp())
    assert reply.member_name == scene.member.display_name
    assert AccessEvent.objects.get().device == device


def test_denied_scan_gets_a_signed_refusal_with_its_reason(scene, device):
    topic, payload = request(device, "DEADBEEF")
    reply = only_reply(GateBridge().handle(topic, payload), device)
    assert (reply.allowed, reply.reason, reply.grant_end) == (False, "unknown_badge", None)
    assert "not registered" in reply.message


def test_forged_request_gets_no_answer_and_decides_nothing(scene, device):
    topic, payload = request(device, scene.badge_uid, secret="not-the-device-secret-0123456789")
    assert GateBridge().handle(topic, payload) == []
    assert not AccessEvent.objects.exists()


def test_request_signed_by_one_gate_cannot_be_sent_on_anothers_topic(scene, device):
    other = GateDeviceFactory(machine=scene.machine)
    _, payload = request(device, scene.badge_uid)
    assert GateBridge().handle(p.gate_topic(other.device_id, p.Topic.REQUEST), payload) == []


@pytest.mark.parametrize(
    "payload",
    [b"", b"{", b"null", b"[]", b'{"v": 1}', b"\xff\xfe", b'{"type": "request"}' * 5000],
)
def test_malformed_requests_are_dropped(scene, device, payload):
    assert GateBridge().handle(p.gate_topic(device.device_id, p.Topic.REQUEST), payload) == []
    assert not AccessEvent.objects.exists()


@pytest.mark.parametrize(
    "topic",
    ["toolgate/v1/gates/unknown-gate/request", "other/topic", "toolgate/v1/gates/+/request"],
)
def test_unknown_gates_and_topics_are_ignored(scene, topic):
    assert GateBridge().handle(topic, b"{}") == []


def test_disabled_gate_gets_no_answer(scene, device):
    GateDevice.objects.filter(pk=device.pk).update(enabled=False, disabled_reason="Stolen")
    topic, payload = request(device, scene.badge_uid)
    assert GateBridge().handle(topic, payload) == []


def replies_by_nonce(outgoing, devices) -> dict[str, p.AccessReply]:
    secrets = {device.device_id: device.secret for device in devices}
    replies = {}
    for topic, payload, _ in outgoing:
        device_id, kind = p.parse_topic(topic)
        assert kind is p.Topic.REPLY
        reply = p.parse_signed(
            p.AccessReply, payload, device_id=device_id, secret=secrets[device_id]
        )
        replies[reply.nonce] = reply
    return replies


def nonce(message: tuple[str, bytes]) -> str:
    return p.BadgeRequest.from_json(message[1]).nonce


def test_a_burst_from_several_gates_gets_one_signed_reply_per_genuine_request(scene, device):
    other = GateDeviceFactory(machine=MachineFactory())
    allowed, unknown = request(device, scene.badge_uid), request(other, "DEADBEEF")
    forged = request(device, scene.badge_uid, secret="not-the-device-secret-0123456789")
    outgoing = GateBridge().handle_many(
        [allowed, forged, (p.gate_topic(other.device_id, p.Topic.REQUEST), b"{"), unknown]
    )
    replies = replies_by_nonce(outgoing, [device, other])
    assert replies.keys() == {nonce(allowed), nonce(unknown)}
    assert (replies[nonce(allowed)].allowed, replies[nonce(unknown)].reason) == (
        True,
        "unknown_badge",
    )
    assert AccessEvent.objects.count() == 2


@pytest.fixture
def runner(settings) -> BridgeRunner:
    settings.GATE_BROKER_URL = "mqtt://127.0.0.1:1"  # never connected in these tests
    return BridgeRunner(GateBridge(), BrokerSettings.from_settings(), client_id="test-bridge")


def test_a_scan_that_trips_a_bug_costs_only_its_own_answer(scene, device, runner, monkeypatch):
    real = bridge_module.access_decide_many

    def failing_on_deadbeef(scans, **kwargs):
        if any(scan.badge_uid == "DEADBEEF" for scan in scans):
            raise RuntimeError("a bug")
        return real(scans, **kwargs)

    monkeypatch.setattr(bridge_module, "access_decide_many", failing_on_deadbeef)
    good, poison = request(device, scene.badge_uid), request(device, "DEADBEEF")
    assert replies_by_nonce(runner.answer([poison, good]), [device]).keys() == {nonce(good)}


def test_the_answering_thread_outlives_a_round_that_fails(runner, monkeypatch):
    """One thread answers every scan a bridge gets: a round that fails must not end it."""
    rounds: list[list] = []
    answered = threading.Event()

    def publish_failing_first(outgoing) -> None:
        rounds.append(outgoing)
        if len(rounds) == 1:
            raise ValueError("the network library refused the message")
        answered.set()

    reply = ("toolgate/v1/gates/laser-1/reply", b"{}", False)
    monkeypatch.setattr(runner.bridge, "handle_many", lambda messages: [reply])
    monkeypatch.setattr(runner, "publish", publish_failing_first)
    worker = threading.Thread(target=runner._answer_live_messages)
    worker.start()

    def scan() -> None:
        runner._enqueue(None, None, MQTTMessage(topic=b"toolgate/v1/gates/laser-1/request"))

    try:
        scan()
        deadline = time.monotonic() + 10
        while not rounds and time.monotonic() < deadline:
            time.sleep(0.01)
        scan()
        assert answered.wait(10), "the second scan was never answered"
    finally:
        runner.stop()
        worker.join(timeout=10)
    assert rounds[-1] == [reply]


def test_a_database_outage_leaves_gates_to_their_allow_lists(scene, device, runner, monkeypatch):
    def database_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(bridge_module, "access_decide_many", database_down)
    assert runner.answer([request(device, scene.badge_uid)]) == []


def durable_message(mid: int, kind: str) -> MQTTMessage:
    message = MQTTMessage(mid=mid, topic=f"toolgate/v1/gates/laser-1/{kind}".encode())
    message.qos = 1
    return message


def test_statuses_are_handled_before_journals_that_arrived_first(db, runner, monkeypatch):
    """After a broker restart every gate sends its status and journal at once: a status is what
    sends its gate what it missed, so it does not wait behind the journals; each message is
    acknowledged to the broker once handled."""
    handled, acked = [], []
    monkeypatch.setattr(runner.bridge, "handle", lambda topic, payload: handled.append(topic) or [])
    monkeypatch.setattr(runner.durable, "ack", lambda mid, qos: acked.append(mid))
    for mid, kind in enumerate(("events", "status", "events", "status"), start=1):
        runner._on_durable_message(runner.durable, None, durable_message(mid, kind))
    for _ in range(4):
        runner.handle_next_durable(timeout=1)
    assert [topic.rsplit("/", 1)[1] for topic in handled] == [
        "status",
        "status",
        "events",
        "events",
    ]
    assert acked == [2, 4, 1, 3]


def signed_ack(device: GateDevice, mid: int, *, command_ids=(), allowlist_version=None):
    ack = p.sign(
        p.Ack(
            device_id=device.device_id,
            sent_at=int(time.time()),
            command_ids=tuple(command_ids),
            allowlist_version=allowlist_version,
        ),
        device.secret,
    )
    message = durable_message(mid, "ack")
    message.topic = p.gate_topic(device.device_id, p.Topic.ACK).encode()
    message.payload = ack.to_json()
    return message


@pytest.fixture
def connection_kept(monkeypatch) -> None:
    """The worker's check of its database connection would close the test's transaction."""
    monkeypatch.setattr(bridge_module, "close_old_connections", lambda: None)


def test_acks_from_many_gates_are_recorded_together_ahead_of_journals(
    scene, device, runner, monkeypatch, connection_kept
):
    """Acks do not wait for the journal worker: every ack that has arrived is recorded in one
    round, and each is acknowledged to the broker only then."""
    other = GateDeviceFactory(machine=MachineFactory())
    stops = [
        outbox.outbox_command(
            device=gate, action=p.ACTION_SWITCH_OFF, reason="test", message="Stop"
        )
        for gate in (device, other)
    ]
    acked: list[int] = []
    monkeypatch.setattr(runner.durable, "ack", lambda mid, qos: acked.append(mid))
    runner._on_durable_message(runner.durable, None, durable_message(1, "events"))
    for mid, (gate, stop) in enumerate(zip((device, other), stops, strict=True), start=2):
        message = signed_ack(gate, mid, command_ids=[stop.command_id])
        runner._on_durable_message(runner.durable, None, message)

    runner.record_acks(timeout=1)

    assert acked == [2, 3]
    assert {row.state for row in GateMessage.objects.filter(pk__in=[s.pk for s in stops])} == {
        DeliveryState.ACKNOWLEDGED
    }
    with pytest.raises(queue.Empty):
        runner.record_acks(timeout=0)


def test_acks_a_database_error_kept_from_being_recorded_are_recorded_next_round(
    scene, device, runner, monkeypatch, connection_kept
):
    stop = outbox.outbox_command(
        device=device, action=p.ACTION_SWITCH_OFF, reason="test", message="Stop"
    )
    acked: list[int] = []
    real = runner.bridge.record_acks
    outcomes = [OperationalError("connection refused")]

    def record_acks(messages):
        if outcomes:
            raise outcomes.pop()
        return real(messages)

    monkeypatch.setattr(bridge_module, "DATABASE_RETRY_SECONDS", 0)
    monkeypatch.setattr(runner.bridge, "record_acks", record_acks)
    monkeypatch.setattr(runner.durable, "ack", lambda mid, qos: acked.append(mid))
    runner._on_durable_message(
        runner.durable, None, signed_ack(device, 9, command_ids=[stop.command_id])
    )

    runner.record_acks(timeout=1)
    assert acked == []
    runner.record_acks(timeout=1)
    assert acked == [9]
    stop.refresh_from_db()
    assert stop.state == DeliveryState.ACKNOWLEDGED


def test_an_ack_from_a_lost_connection_is_left_to_the_broker_to_send_again(
    scene, device, runner, monkeypatch, connection_kept
):
    stop = outbox.outbox_command(
        device=device, action=p.ACTION_SWITCH_OFF, reason="test", message="Stop"
    )
    monkeypatch.setattr(runner.durable, "ack", lambda mid, qos: pytest.fail("acked"))
    runner._on_durable_message(
        runner.durable, None, signed_ack(device, 4, command_ids=[stop.command_id])
    )
    runner._mark(runner.durable._client_id.decode(), up=False)

    runner.record_acks(timeout=1)

    stop.refresh_from_db()
    assert stop.state == DeliveryState.QUEUED


def test_a_database_error_retries_the_message_and_keeps_the_connection(db, runner, monkeypatch):
    """The upload is acknowledged only once stored; the connection stays up (a deliberate
    disconnect would end paho's network loop for good)."""
    outcomes = [OperationalError("connection refused"), []]
    acked: list[int] = []

    def handle(topic, payload):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(bridge_module, "DATABASE_RETRY_SECONDS", 0)
    monkeypatch.setattr(runner.bridge, "handle", handle)
    monkeypatch.setattr(runner.durable, "ack", lambda mid, qos: acked.append(mid))
    monkeypatch.setattr(runner.durable, "disconnect", lambda: pytest.fail("disconnected"))
    runner._on_durable_message(runner.durable, None, durable_message(7, "events"))
    runner.handle_next_durable(timeout=1)
    assert acked == []
    runner.handle_next_durable(timeout=1)
    assert (acked, outcomes) == ([7], [])


def test_a_message_from_a_lost_connection_is_left_to_the_broker_to_send_again(
    db, runner, monkeypatch
):
    handled: list[str] = []
    monkeypatch.setattr(runner.bridge, "handle", lambda topic, payload: handled.append(topic) or [])
    monkeypatch.setattr(runner.durable, "ack", lambda mid, qos: pytest.fail("acked"))
    runner._on_durable_message(runner.durable, None, durable_message(1, "events"))
    runner._mark(runner.durable._client_id.decode(), up=False)
    runner.handle_next_durable(timeout=1)
    assert handled == []


def test_heartbeat_records_presence_and_relay_state(scene, device):
    beat = p.sign(
        p.Heartbeat(
            device_id=device.device_id,
            sent_at=int(time.time()),
            firmware="1.2.3",
            uptime=60,
            relay_on=True,
            phase="on",
            grant_end=int(scene.booking.end.timestamp()),
            allowlist_version=3,
            unsent_events=0,
        ),
        device.secret,
    )
    GateBridge().handle(p.gate_topic(device.device_id, p.Topic.HEARTBEAT), beat.to_json())
    device.refresh_from_db()
    assert (device.online, device.relay_on, device.firmware) == (True, True, "1.2.3")
    assert device.relay_grant_end.timestamp() == int(scene.booking.end.timestamp())


def test_status_offline_marks_the_gate_offline(scene, device):
    GateDevice.objects.filter(pk=device.pk).update(online=True)
    status = p.Status(device_id=device.device_id, state=p.STATUS_OFFLINE, firmware="1")
    GateBridge().handle(p.gate_topic(device.device_id, p.Topic.STATUS), status.to_json())
    device.refresh_from_db()
    assert not device.online


def test_status_online_queues_a_fresh_signed_allow_list(scene, device):
    status = p.Status(device_id=device.device_id, state=p.STATUS_ONLINE, firmware="1")
    assert (
        GateBridge().handle(p.gate_topic(device.device_id, p.Topic.STATUS), status.to_json()) == []
    )
    [(topic, payload, retain)] = [(o.topic, o.payload, o.retain) for o in outbox.outbox_claim()]
    assert topic == p.gate_topic(device.device_id, p.Topic.ALLOWLIST) and retain
    allowlist = p.parse_signed(
        p.AllowList, payload, device_id=device.device_id, secret=device.secret
    )
    [entry] = allowlist.entries
    assert entry.badge_hash == p.allowlist_badge_hash(scene.badge_uid, device.secret)
    assert entry.window_end == int(scene.booking.end.timestamp())
    assert scene.badge_uid.encode() not in payload


def events(device, *entries) -> tuple[str, bytes]:
    batch = p.sign(
        p.EventBatch(device_id=device.device_id, sent_at=int(time.time()), events=tuple(entries)),
        device.secret,
    )
    return p.gate_topic(device.device_id, p.Topic.EVENTS), batch.to_json()


def event(kind: str, **fields) -> p.GateEvent:
    values = {
        "id": p.new_nonce(),
        "kind": kind,
        "at": int(time.time()),
        "reason": "allowed_booking",
        "session_id": None,
        "badge_uid": None,
        "allowed": None,
        "grant_end": None,
    }
    values.update(fields)
    return p.GateEvent(**values)


def test_sessions_are_recorded_from_start_to_end(scene, device):
    bridge = GateBridge()
    session_id = p.new_nonce()
    start = event(
        p.EVENT_SESSION_START,
        session_id=session_id,
        badge_uid=scene.badge_uid,
        allowed=True,
        grant_end=int(scene.booking.end.timestamp()),
    )
    bridge.handle(*events(device, start))
    bridge.handle(*events(device, start))  # re-uploaded after a lost acknowledgement
    bridge.handle(
        *events(device, event(p.EVENT_SESSION_END, session_id=session_id, reason="grant_ended"))
    )
    session = UsageSession.objects.get()
    assert (session.member, session.booking, session.grant_reason, session.end_reason) == (
        scene.member,
        scene.booking,
        "allowed_booking",  # what metering charges by (docs/billing.md)
        "grant_ended",
    )
    assert session.ended_at is not None


def test_offline_decisions_are_logged_once(scene, device):
    decided = event(
        p.EVENT_OFFLINE_DECISION,
        badge_uid=scene.badge_uid,
        allowed=True,
        reason="allowed_booking",
        grant_end=int(scene.booking.end.timestamp()),
    )
    bridge = GateBridge()
    bridge.handle(*events(device, decided))
    bridge.handle(*events(device, decided))
    logged = AccessEvent.objects.get()
    assert (logged.source, logged.member, logged.gate_event_id) == (
        "offline",
        scene.member,
        decided.id,
    )


def test_forged_event_upload_changes_nothing(scene, device):
    topic, payload = events(
        device, event(p.EVENT_OFFLINE_DECISION, badge_uid=scene.badge_uid, allowed=True)
    )
    tampered = payload.replace(b'"allowed":true', b'"allowed":false')
    assert tampered != payload
    GateBridge().handle(topic, tampered)
    assert not AccessEvent.objects.exists()


def test_housekeeping_marks_silent_gates_offline(scene, device, settings):
    stale = timezone.now() - timezone.timedelta(seconds=settings.GATE_OFFLINE_AFTER_SECONDS + 5)
    GateDevice.objects.filter(pk=device.pk).update(online=True, last_seen=stale)
    GateBridge().housekeeping()
    device.refresh_from_db()
    assert not device.online


def test_housekeeping_forgets_old_allow_list_decisions_but_never_scans(scene, device, settings):
    GateBridge().housekeeping()
    outbox.outbox_claim()  # builds the gate's allow-list, logging its decisions
    old = timezone.now() - timezone.timedelta(days=settings.GATE_ALLOWLIST_LOG_DAYS, minutes=1)
    assert AccessEvent.objects.filter(source=AccessSource.ALLOWLIST).update(at=old) > 0
    scan = access_decide(
        badge_uid=scene.badge_uid, machine=scene.machine, source=AccessSource.GATE, at=old
    ).event
    GateBridge().housekeeping()
    outbox.outbox_claim(now=timezone.now() + timezone.timedelta(minutes=1))
    assert AccessEvent.objects.filter(at=old).get() == scan
    assert AccessEvent.objects.filter(source=AccessSource.ALLOWLIST, at__gt=old).exists()


def test_a_request_delivered_twice_is_answered_once(scene, device):
    """MQTT delivers at least once: the same signed request again, in the same round or a later
    one, gets no second reply (a second, different reply would switch the gate off)."""
    scan = request(device, scene.badge_uid)
    bridge = GateBridge()
    reply = only_reply(bridge.handle_many([scan, scan]), device)
    assert reply.allowed
    assert bridge.handle(*scan) == []
    assert GateBridge().handle(*scan) == []  # another bridge reads the same access log
    assert AccessEvent.objects.filter(source=AccessSource.GATE).count() == 1


def test_a_race_between_two_bridges_answers_once(scene, device, monkeypatch):
    """Two bridges deciding the same request at the same moment: the access log's unique nonce
    per gate lets one answer, and the other finds it answered."""
    from access import bridge as bridge_module

    scan = request(device, scene.badge_uid)
    unanswered = bridge_module._unanswered
    calls = []

    def late(requests):
        calls.append(1)
        if len(calls) == 1:  # the other bridge answers while this one was deciding
            GateBridge().handle(*scan)
        return unanswered(requests) if len(calls) > 1 else requests

    monkeypatch.setattr(bridge_module, "_unanswered", late)
    assert GateBridge().handle(*scan) == []
    assert AccessEvent.objects.filter(source=AccessSource.GATE).count() == 1
