"""The MQTT bridge: answers gates' badge requests with signed decisions and records what they report.

It keeps no state another bridge would need: several bridges share the load through an MQTT v5
shared subscription, and each message is acknowledged only after it was handled. An event upload
whose handling hits a database error is retried until the database answers, and acknowledged only
then (were the bridge to die meanwhile, the broker delivers it again); a badge request is answered
now or never (the gate decides from its allow-list after its timeout).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import DatabaseError, IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from access import outbox
from access.alarms import gate_alarm_record
from access.broker import EVENTS_SUFFIX, bridge_login, bridge_share_group
from access.facts import Scan
from access.intake import allowlist_after_online, within_size_limit
from access.models import AccessEvent, AccessSource, GateDevice, UsageSession
from access.mqtt import BrokerSettings, make_client
from access.services import access_decide_many
from bookings.selectors import booking_covering
from core import events as domain_events
from gate_agent import protocol
from membership.selectors import member_by_badge
from training.services import certification_used

log = logging.getLogger(__name__)
Outgoing = tuple[str, bytes, bool]
# Requests and heartbeats are split between bridges (MQTT v5 shared subscriptions) on a session
# that ends with the connection: a dead bridge must not keep a share of the badge scans queued
# while gates wait. Every bridge reads every status and event batch itself, on a persistent
# session: retained statuses never reach shared subscriptions, and Mosquitto restores plain
# subscriptions, not shared ones, after a restart, so event uploads made before a bridge
# resubscribes wait in its session instead of being lost. Handling them is idempotent (events
# carry ids), so several bridges reading them is safe. The shared group's name is a secret
# (`bridge_share_group`): a gate that could name it could join the rotation.
LIVE_KINDS = (protocol.Topic.REQUEST, protocol.Topic.HEARTBEAT)
DURABLE_SUBSCRIPTIONS = (
    f"{protocol.TOPIC_PREFIX}/+/{protocol.Topic.EVENTS.value}",
    f"{protocol.TOPIC_PREFIX}/+/{protocol.Topic.STATUS.value}",
    f"{protocol.TOPIC_PREFIX}/+/{protocol.Topic.ACK.value}",
)
SESSION_EXPIRY_SECONDS = 24 * 3600
# How long a round of outbox publications waits for the broker's PUBACKs.
PUBACK_TIMEOUT_SECONDS = 5.0
# The longest an idle outbox thread sleeps before it looks again (a NOTIFY or poll wakes it).
OUTBOX_IDLE_SECONDS = 1.0
# Live messages answered in one round at most; more wait for the next round.
BATCH_LIMIT = 200
# How long the durable worker waits before it tries a message again after a database error.
DATABASE_RETRY_SECONDS = 1.0


def _at(timestamp: int | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, tz=UTC)


def _unanswered(
    requests: list[tuple[GateDevice, protocol.BadgeRequest]],
) -> list[tuple[GateDevice, protocol.BadgeRequest]]:
    """The requests, once each (MQTT may deliver one twice in a round). Whether another round
    or another bridge answered one already is read with its facts, in the same statement."""
    seen: set[tuple[int, str]] = set()
    fresh = []
    for device, request in requests:
        key = (device.pk, request.nonce)
        if key in seen:
            log.info("Request %s from gate %s already answered", request.nonce, device.device_id)
            continue
        seen.add(key)
        fresh.append((device, request))
    return fresh


def _gate_of(topic: str) -> str | None:
    """The device id of a badge request's topic, else None."""
    try:
        device_id, kind = protocol.parse_topic(topic)
    except protocol.ProtocolError:
        return None
    return device_id if kind is protocol.Topic.REQUEST else None


class GateBridge:
    """Handles one gate message at a time; `handle` returns what to publish in answer."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._handlers = {
            protocol.Topic.HEARTBEAT: self._heartbeat,
            protocol.Topic.EVENTS: self._events,
            protocol.Topic.STATUS: self._status,
        }  # acks: `record_acks`, many at once
        # Enabled gates by device id, for their badge requests: each decision's facts confirm
        # that the gate is still enabled, on the same machine and with the same secret, and a
        # gate found changed is dropped and read again (`_replies`).
        self._gates: dict[str, GateDevice] = {}

    def handle(self, topic: str, payload: bytes) -> list[Outgoing]:
        return self.handle_many([(topic, payload)])

    def handle_many(self, messages: Sequence[tuple[str, bytes]]) -> list[Outgoing]:
        """Handle messages in order; their badge requests are decided together, in one batch."""
        return self._handle(within_size_limit(messages), cached=True)

    def _handle(self, messages: Sequence[tuple[str, bytes]], *, cached: bool) -> list[Outgoing]:
        devices = self._devices(messages, cached=cached)
        requests: list[tuple[GateDevice, protocol.BadgeRequest]] = []
        # Requests whose signature a cached gate refused: it may have a new secret.
        doubtful: list[tuple[str, bytes]] = []
        outgoing: list[Outgoing] = []
        for topic, payload in messages:
            device, kind = devices.get(topic, (None, None))
            if device is None:
                continue
            try:
                if kind is protocol.Topic.REQUEST:
                    request = protocol.parse_signed(
                        protocol.BadgeRequest,
                        payload,
                        device_id=device.device_id,
                        secret=device.secret,
                    )
                    requests.append((device, request))
                elif handler := self._handlers.get(kind):
                    outgoing += handler(device, payload)
            except protocol.SignatureError as error:
                if cached and self._gates.pop(device.device_id, None) is not None:
                    doubtful.append((topic, payload))
                    continue
                log.warning("Refused %s from gate %s: %s", kind.value, device.device_id, error)
            except protocol.ProtocolError as error:
                log.warning("Refused %s from gate %s: %s", kind.value, device.device_id, error)
        if doubtful:
            outgoing += self._handle(doubtful, cached=False)
        return outgoing + self._replies(requests, messages_of=messages, cached=cached)

    def _devices(
        self, messages: Sequence[tuple[str, bytes]], *, cached: bool = False
    ) -> dict[str, tuple[GateDevice, protocol.Topic]]:
        """The enabled gate and message kind of each well-formed topic: a badge request's gate
        from the cache when `cached`, the others read in one query."""
        parsed = {}
        for topic, _ in messages:
            try:
                parsed[topic] = protocol.parse_topic(topic)
            except protocol.ProtocolError as error:
                log.warning("Ignoring message on %r: %s", topic[:120], error)
        found = {}
        unread = set()
        for topic, (device_id, kind) in parsed.items():
            gate = self._gates.get(device_id) if cached else None
            if gate is not None and kind is protocol.Topic.REQUEST:
                found[topic] = (gate, kind)
            else:
                unread.add(device_id)
        devices = (
            GateDevice.objects.select_related("machine").in_bulk(unread, field_name="device_id")
            if unread
            else {}
        )
        for device_id in unread:
            if (device := devices.get(device_id)) is not None and device.enabled:
                self._gates[device_id] = device
            else:
                self._gates.pop(device_id, None)
        for topic, (device_id, kind) in parsed.items():
            if topic in found:
                continue
            device = devices.get(device_id)
            # A disabled gate is served nothing, but its acks still settle what it was sent.
            if device is None or not (device.enabled or kind is protocol.Topic.ACK):
                log.warning("Ignoring %s from unknown or disabled gate %r", kind.value, device_id)
            else:
                found[topic] = (device, kind)
        return found

    def _replies(
        self,
        requests: list[tuple[GateDevice, protocol.BadgeRequest]],
        *,
        messages_of: Sequence[tuple[str, bytes]] = (),
        cached: bool = False,
    ) -> list[Outgoing]:
        """Each request answered once: MQTT may deliver it again, to this bridge or another, and
        the gate fails closed on a second, different reply. The access log's unique nonce per
        gate settles a race between two bridges."""
        requests = _unanswered(requests)
        now = timezone.now()

        def decide(requests):
            return access_decide_many(
                [
                    Scan(
                        badge_uid=request.badge_uid,
                        machine=device.machine,
                        at=now,
                        device=device,
                        request_nonce=request.nonce,
                    )
                    for device, request in requests
                ],
                source=AccessSource.GATE,
            )

        try:
            results = decide(requests)
        except IntegrityError:  # another bridge answered some of them meanwhile
            requests = _unanswered(requests)
            results = decide(requests)
        replies = []
        changed = set()
        for (device, request), result in zip(requests, results, strict=True):
            if result is None:
                # Answered already, or the gate changed since it was cached: read it again.
                if cached and self._gates.pop(device.device_id, None) is not None:
                    changed.add(device.device_id)
                continue
            decision = result.decision
            reply = protocol.build_reply(
                request,
                secret=device.secret,
                allowed=decision.allowed,
                reason=decision.reason.value,
                message=decision.message,
                member_name=decision.member_name,
                grant_end=int(decision.grant_end.timestamp()) if decision.grant_end else None,
                now=self.clock(),
            )
            topic = protocol.gate_topic(device.device_id, protocol.Topic.REPLY)
            replies.append((topic, reply.to_json(), False))
        if changed:
            again = [(t, payload) for t, payload in messages_of if _gate_of(t) in changed]
            replies += self._handle(again, cached=False)
        return replies

    def _heartbeat(self, device: GateDevice, payload: bytes) -> list[Outgoing]:
        beat = protocol.parse_signed(
            protocol.Heartbeat, payload, device_id=device.device_id, secret=device.secret
        )
        GateDevice.objects.filter(pk=device.pk).update(
            online=True,
            last_seen=timezone.now(),
            firmware=beat.firmware,
            relay_on=beat.relay_on,
            relay_grant_end=_at(beat.grant_end),
        )
        return []

    def _status(self, device: GateDevice, payload: bytes) -> list[Outgoing]:
        status = protocol.Status.from_json(payload)
        online = status.state == protocol.STATUS_ONLINE
        changes = {"online": online, "firmware": status.firmware}
        if online:
            changes["last_seen"] = timezone.now()
        GateDevice.objects.filter(pk=device.pk).update(**changes)
        if not online and device.online:
            domain_events.emit(domain_events.GATE_OFFLINE, device)
        if online:
            # What it missed while away goes now, with a fresh allow-list (at most once a
            # minute: a gate repeating unsigned "online" statuses costs one list, not one each).
            with transaction.atomic():
                outbox.outbox_gate_back(device=device)
                allowlist_after_online(device)
        return []

    def record_acks(self, messages: Sequence[tuple[str, bytes]]) -> int:
        """Gates' acks settled together, in one transaction; those not genuine are refused.
        Returns how many outbox messages they settled."""
        devices = self._devices(messages)
        acks = []
        for topic, payload in messages:
            device, kind = devices.get(topic, (None, None))
            if device is None or kind is not protocol.Topic.ACK:
                continue
            try:
                acks.append(
                    (
                        device,
                        protocol.parse_signed(
                            protocol.Ack, payload, device_id=device.device_id, secret=device.secret
                        ),
                    )
                )
            except (protocol.ProtocolError, protocol.SignatureError) as error:
                log.warning("Refused ack from gate %s: %s", device.device_id, error)
        return outbox.outbox_acknowledged(acks=acks) if acks else 0

    def _events(self, device: GateDevice, payload: bytes) -> list[Outgoing]:
        batch = protocol.parse_signed(
            protocol.EventBatch, payload, device_id=device.device_id, secret=device.secret
        )
        for event in batch.events:
            with transaction.atomic():
                self._record_event(device, event)
        return []

    def _record_event(self, device: GateDevice, event: protocol.GateEvent) -> None:
        at = _at(event.at)
        member = member_by_badge(event.badge_uid) if event.badge_uid else None
        if event.kind == protocol.EVENT_OFFLINE_DECISION:
            if AccessEvent.objects.filter(gate_event_id=event.id).exists():
                return  # an upload repeated after a lost acknowledgement
            try:
                with transaction.atomic():
                    logged = AccessEvent.objects.create(
                        at=at,
                        source=AccessSource.OFFLINE,
                        badge_uid=(event.badge_uid or "")[:40],
                        device=device,
                        machine=device.machine,
                        member=member,
                        allowed=bool(event.allowed),
                        reason=event.reason[:40],
                        grant_end=_at(event.grant_end),
                        gate_event_id=event.id,
                    )
                    domain_events.emit(domain_events.ACCESS_DECIDED, logged)
            except IntegrityError:
                pass  # another bridge stored the same upload first
            return
        if event.kind == protocol.EVENT_ALARM:
            gate_alarm_record(
                device=device,
                event_id=event.id,
                reason=event.reason,
                at=at,
                session_id=event.session_id,
            )
            return
        if not event.session_id:
            return
        if event.kind == protocol.EVENT_SESSION_START:
            session, started = UsageSession.objects.get_or_create(
                session_id=event.session_id,
                defaults={
                    "device": device,
                    "machine": device.machine,
                    "member": member,
                    "booking": booking_covering(member=member, machine=device.machine, at=at)
                    if member
                    else None,
                    "badge_uid": (event.badge_uid or "")[:40],
                    "grant_reason": event.reason[:40],
                    "started_at": at,
                    "grant_end": _at(event.grant_end),
                },
            )
            if started:
                domain_events.emit(domain_events.USAGE_STARTED, session)
            needed = device.machine.required_certification_id
            if started and member is not None and needed is not None:
                # Use keeps a certification that lapses when unused alive.
                certification_used(member=member, certification_id=needed, at=at)
        elif event.kind == protocol.EVENT_SESSION_EXTEND:
            UsageSession.objects.filter(session_id=event.session_id, ended_at__isnull=True).update(
                grant_end=_at(event.grant_end)
            )
        elif event.kind == protocol.EVENT_SESSION_END:
            running = UsageSession.objects.filter(
                session_id=event.session_id, ended_at__isnull=True
            )
            if running.update(
                ended_at=at, end_reason=event.reason[:40], busy_seconds=_busy(event, at)
            ):
                domain_events.emit_each(
                    domain_events.USAGE_ENDED,
                    UsageSession.objects.filter(session_id=event.session_id),
                )

    def housekeeping(self) -> list[Outgoing]:
        """Periodic: mark silent gates offline, settle messages past their give-up time, forget
        old allow-list decisions and queue a fresh allow-list for every gate (a disabled one
        gets an empty list, until it acknowledges one)."""
        now = timezone.now()
        outbox.outbox_give_up(now=now)
        silent_since = now - timedelta(seconds=settings.GATE_OFFLINE_AFTER_SECONDS)
        silent = GateDevice.objects.filter(online=True, last_seen__lt=silent_since)
        with transaction.atomic():
            domain_events.emit_each(domain_events.GATE_OFFLINE, silent.select_related("machine"))
            silent.update(online=False)
        AccessEvent.objects.filter(
            source=AccessSource.ALLOWLIST,
            at__lt=now - timedelta(days=settings.GATE_ALLOWLIST_LOG_DAYS),
        ).delete()
        outbox.outbox_allowlist(devices=GateDevice.objects.all(), now=now)
        return []


def _busy(event: protocol.GateEvent, ended_at: datetime) -> int | None:
    """The session's busy seconds, never more than it lasted (the gate counts on its own clock)."""
    if event.busy_seconds is None:
        return None
    started = (
        UsageSession.objects.filter(session_id=event.session_id)
        .values_list("started_at", flat=True)
        .first()
    )
    if started is None:
        return event.busy_seconds
    return max(0, min(event.busy_seconds, int((ended_at - started).total_seconds())))


class OutboxWaker:
    """Waits until the outbox may have work: a NOTIFY on PostgreSQL (sent at the commit that
    queued a message), or a short poll on SQLite (GATE_OUTBOX_POLL_SECONDS)."""

    def __init__(self) -> None:
        self._listener = None
        if connection.vendor == "postgresql":
            import psycopg

            params = connection.get_connection_params()
            params.pop("context", None)
            params.pop("cursor_factory", None)
            self._listener = psycopg.connect(**params, autocommit=True)
            self._listener.execute(f"LISTEN {outbox.NOTIFY_CHANNEL}")

    def wait(self, seconds: float) -> None:
        if self._listener is None:
            time.sleep(min(seconds, settings.GATE_OUTBOX_POLL_SECONDS))
            return
        for _ in self._listener.notifies(timeout=seconds, stop_after=1):
            break

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()


class BridgeRunner:
    """Connects a `GateBridge` to the broker and runs it until `stop()`.

    Two connections: `live` for the shared request and heartbeat subscriptions, `durable`
    (client id + "-events", persistent session) for event uploads, statuses and acks. Live
    messages are answered by one worker thread in batches of whatever arrived meanwhile: one at
    a time when the shop is quiet, many scans for the price of one decision round when it is
    busy. Gates' acks have a worker of their own, which records all that arrived meanwhile in one
    transaction: after a broker restart every gate sends its status (each costs an allow-list)
    and its journal at once, and acks queued behind them would leave staff reading "delivered"
    for seconds after the gates had obeyed. Statuses and journals have the third, statuses
    first: a gate's status is what sends it what it missed.
    """

    def __init__(self, bridge: GateBridge, broker: BrokerSettings, *, client_id: str) -> None:
        self.bridge = bridge
        self.broker = broker
        self.connected = threading.Event()
        self._stopped = threading.Event()
        self._up: set[str] = set()
        self._lock = threading.Lock()
        # Message ids belong to one connection: a message received before a reconnect is not
        # acknowledged on the next one (a clean session has forgotten it anyway).
        self._live_connection = 0
        self._durable_connection = 0
        self._inbox: queue.SimpleQueue[tuple[int, mqtt.MQTTMessage]] = queue.SimpleQueue()
        self._acks: queue.SimpleQueue[tuple[int, mqtt.MQTTMessage]] = queue.SimpleQueue()
        # (0 for a status, else 1; arrival; connection; message): statuses first, else in order.
        self._durable_inbox: queue.PriorityQueue[tuple[int, int, int, mqtt.MQTTMessage]] = (
            queue.PriorityQueue()
        )
        self._arrivals = itertools.count()
        self._live_client_id = client_id
        group = bridge_share_group()
        live = tuple(protocol.shared_subscription(kind, group) for kind in LIVE_KINDS)
        self.live = self._client(client_id, live, on_message=self._enqueue)
        self.durable = self._client(
            f"{client_id}{EVENTS_SUFFIX}",
            DURABLE_SUBSCRIPTIONS,
            on_message=self._on_durable_message,
        )

    def _client(self, client_id: str, subscriptions: tuple[str, ...], *, on_message):
        client = make_client(bridge_login(self.broker, client_id), client_id=client_id)
        client.manual_ack_set(True)
        # A bridge back within 2 s of its broker's return, not after paho's doubling delays (up
        # to 2 min): until it is, no switch-off reaches a gate and no ack is recorded.
        client.reconnect_delay_set(min_delay=1, max_delay=2)
        client.on_message = on_message

        def on_connect(client, userdata, flags, reason_code, properties) -> None:
            if reason_code.is_failure:
                log.error("Broker refused bridge connection %s: %s", client_id, reason_code)
                return
            client.subscribe([(topic, 1) for topic in subscriptions])
            log.info("Bridge %s connected to %s:%s", client_id, self.broker.host, self.broker.port)
            self._mark(client_id, up=True)

        client.on_connect = on_connect
        client.on_disconnect = lambda *args: self._mark(client_id, up=False)
        return client

    def _mark(self, client_id: str, *, up: bool) -> None:
        with self._lock:
            if client_id == self._live_client_id:
                self._live_connection += 1
            else:
                self._durable_connection += 1
            (self._up.add if up else self._up.discard)(client_id)
            if len(self._up) == 2:
                self.connected.set()
            else:
                self.connected.clear()

    def _enqueue(self, client, userdata, message) -> None:
        self._inbox.put((self._live_connection, message))

    def _answer_live_messages(self) -> None:
        while not self._stopped.is_set():
            try:
                batch = [self._inbox.get(timeout=0.5)]
            except queue.Empty:
                continue
            while len(batch) < BATCH_LIMIT:
                try:
                    batch.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            try:
                close_old_connections()
                self.publish(self.answer([(m.topic, m.payload) for _, m in batch]))
            except Exception:
                # This thread answers every scan this bridge gets: it must outlive any one round.
                log.exception("Answering %d gate message(s) failed", len(batch))
            for live_connection, message in batch:
                if live_connection == self._live_connection:
                    self.live.ack(message.mid, message.qos)

    def answer(self, messages: list[tuple[str, bytes]]) -> list[Outgoing]:
        """Badge requests are answered now or never: a late reply is useless to a gate that has
        already decided from its allow-list, so a failure is logged, not redelivered."""
        try:
            return self.bridge.handle_many(messages)
        except DatabaseError:
            log.exception(
                "Database error on %d gate message(s); gates use allow-lists", len(messages)
            )
            return []
        except Exception:
            if len(messages) == 1:
                log.exception("Bug handling %s; the message is dropped", messages[0][0])
                return []
            # One message that trips a bug must not cost the others their answers.
            return [out for message in messages for out in self.answer([message])]

    def _on_durable_message(self, client, userdata, message) -> None:
        if message.topic.endswith(f"/{protocol.Topic.ACK.value}"):
            self._acks.put((self._durable_connection, message))
            return
        is_status = message.topic.endswith(f"/{protocol.Topic.STATUS.value}")
        self._durable_inbox.put(
            (0 if is_status else 1, next(self._arrivals), self._durable_connection, message)
        )

    def record_acks(self, *, timeout: float) -> None:
        """Record every gate ack that has arrived, in one transaction, then acknowledge them to
        the broker; raises `queue.Empty` if none arrives within `timeout` seconds."""
        batch = [self._acks.get(timeout=timeout)]
        while len(batch) < BATCH_LIMIT:
            try:
                batch.append(self._acks.get_nowait())
            except queue.Empty:
                break
        # Packet ids die with their connection: the broker sends those again.
        current = [message for seen, message in batch if seen == self._durable_connection]
        close_old_connections()
        try:
            self.bridge.record_acks([(message.topic, message.payload) for message in current])
        except DatabaseError:
            log.exception("Database error recording %d gate ack(s); trying again", len(current))
            for message in current:
                self._acks.put((self._durable_connection, message))
            self._stopped.wait(DATABASE_RETRY_SECONDS)
            return
        except Exception:
            # Nothing is lost: a message a gate does not see acknowledged is sent to it again,
            # and it acks a duplicate again.
            log.exception("Bug recording %d gate ack(s); they are dropped", len(current))
        for message in current:
            self.durable.ack(message.mid, message.qos)

    def _keep_taking(self, take_next: Callable[..., None]) -> None:
        """Call `take_next` until the bridge stops (it raises `queue.Empty` when idle)."""
        while not self._stopped.is_set():
            with contextlib.suppress(queue.Empty):
                take_next(timeout=0.5)

    def handle_next_durable(self, *, timeout: float) -> None:
        """Handle the first status or journal in line and acknowledge it to the broker;
        raises `queue.Empty` if none arrives within `timeout` seconds."""
        entry = self._durable_inbox.get(timeout=timeout)
        _, _, connection_seen, message = entry
        if connection_seen != self._durable_connection:
            return  # its packet id died with that connection: the broker sends it again
        close_old_connections()
        try:
            outgoing = self.bridge.handle(message.topic, message.payload)
        except DatabaseError:
            log.exception("Database error handling %s; trying it again", message.topic)
            self._durable_inbox.put(entry)  # keeps its place in line
            self._stopped.wait(DATABASE_RETRY_SECONDS)
            return
        except Exception:
            log.exception("Bug handling %s; the message is acknowledged and dropped", message.topic)
            outgoing = []
        self.publish(outgoing)
        self.durable.ack(message.mid, message.qos)

    def publish(self, outgoing: list[Outgoing]) -> None:
        for topic, payload, retain in outgoing:
            self.live.publish(topic, payload, qos=1, retain=retain)

    def run(self, *, housekeeping_seconds: float) -> None:
        persistent = Properties(PacketTypes.CONNECT)
        persistent.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
        host, port = self.broker.host, self.broker.port
        workers = [
            threading.Thread(target=self._answer_live_messages, name="bridge-live"),
            threading.Thread(
                target=self._keep_taking, args=(self.handle_next_durable,), name="bridge-durable"
            ),
            threading.Thread(
                target=self._keep_taking, args=(self.record_acks,), name="bridge-acks"
            ),
        ]
        for worker in workers:
            worker.start()
        self.live.connect_async(host, port, keepalive=30, clean_start=True)
        self.durable.connect_async(
            host, port, keepalive=30, clean_start=False, properties=persistent
        )
        self.live.loop_start()
        self.durable.loop_start()
        sender = threading.Thread(target=self._send_outbox, name="bridge-outbox")
        sender.start()
        try:
            next_housekeeping = 0.0
            while not self._stopped.wait(1.0):
                if self.connected.is_set() and time.monotonic() >= next_housekeeping:
                    close_old_connections()
                    try:
                        self.publish(self.bridge.housekeeping())
                    except DatabaseError:
                        log.exception("Housekeeping failed; retrying next round")
                    next_housekeeping = time.monotonic() + housekeeping_seconds
        finally:
            self._stopped.set()
            for thread in (*workers, sender):
                thread.join()
            for client in (self.live, self.durable):
                client.disconnect()
                client.loop_stop()

    def stop(self) -> None:
        self._stopped.set()

    def _send_outbox(self) -> None:
        """Publish due outbox messages while connected; between rounds, wait for a wake-up."""
        waker = None
        try:
            while not self._stopped.is_set():
                sent = 0
                if self.connected.is_set():
                    try:
                        close_old_connections()
                        waker = waker or OutboxWaker()
                        sent = self.send_outbox_once()
                    except DatabaseError:
                        log.exception("Outbox round failed; retrying")
                        time.sleep(OUTBOX_IDLE_SECONDS)
                        continue
                if sent:
                    continue  # more may be due at once
                if waker is None:
                    self._stopped.wait(OUTBOX_IDLE_SECONDS)
                else:
                    waker.wait(OUTBOX_IDLE_SECONDS)
        finally:
            if waker is not None:
                waker.close()

    def send_outbox_once(self) -> int:
        """One round: claim the due messages, publish them at QoS 1 and record which reached
        the broker. Returns how many were claimed."""
        due = outbox.outbox_claim()
        if not due:
            return 0
        sent = [
            (item, self.live.publish(item.topic, item.payload, qos=1, retain=item.retain))
            for item in due
        ]
        deadline = time.monotonic() + PUBACK_TIMEOUT_SECONDS
        delivered, failed = [], {}
        for item, info in sent:
            try:
                info.wait_for_publish(timeout=max(0.0, deadline - time.monotonic()))
            except (RuntimeError, ValueError) as error:
                failed[item.message_pk] = f"The broker did not take it: {error}"
                continue
            if info.is_published():
                delivered.append(item.message_pk)
            else:
                failed[item.message_pk] = "No acknowledgement from the broker in time."
        outbox.outbox_sent(delivered=delivered, failed=failed)
        return len(due)
