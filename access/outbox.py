"""The gate outbox: site-to-gate messages queued in the caller's transaction, sent by the bridge.

A command or allow-list commits with the change that causes it (a cancelled booking, a lapsed
membership, an emergency stop), or not at all. Nothing here opens a network connection: the
bridge claims due rows, publishes them and re-sends each, with backoff, until the gate
acknowledges it, a newer allow-list supersedes it, or it gives up (docs/gate-protocol.md,
"Acknowledgements"). Claims are leases: a bridge killed between claiming and publishing leaves
its rows to another bridge a few seconds later, and a gate applies a message id only once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from access.allowlist import allowlist_build
from access.models import (
    PENDING_STATES,
    DeliveryState,
    GateDevice,
    GateMessage,
    GateMessageKind,
)
from core import clock
from gate_agent import protocol
from membership.models import User

# PostgreSQL NOTIFY channel: queuing wakes the bridges at commit instead of at their next poll.
NOTIFY_CHANNEL = "toolgate_gate_outbox"
# Re-send delays while a gate has not acknowledged, by attempt; then the last one, repeated.
RETRY_SECONDS = (1, 2, 4, 8, 15, 30)
# How long a claimed row is left to the bridge that claimed it before another may take it.
CLAIM_LEASE = timedelta(seconds=5)
# A command re-sent this close to its signed expiry is re-signed (same id, fresh times).
RESIGN_MARGIN_SECONDS = 20


def _locked(rows: QuerySet[Any]) -> list[int]:
    """Lock `rows` in id order and return their ids. Every writer of several outbox rows (or
    gates) locks them this way first: two bridges, one recording acks and one a publish round,
    or both claiming lists of the same gates, then never deadlock (PostgreSQL breaks a deadlock
    only after `deadlock_timeout`, a second, and the soak saw acks recorded that much late).
    The lock is the one UPDATE takes (NO KEY): an access event naming the gate, or a gate's
    message, is not held up by it. Call it inside the transaction that writes them."""
    return list(rows.select_for_update(no_key=True).order_by("pk").values_list("pk", flat=True))


def _give_up_at(now: datetime) -> datetime:
    return now + timedelta(hours=settings.GATE_OUTBOX_GIVE_UP_HOURS)


def _wake_bridges() -> None:
    """Delivered at commit by PostgreSQL, dropped with a rollback; SQLite bridges poll."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")


def outbox_command(
    *,
    device: GateDevice,
    action: str,
    reason: str,
    message: str,
    actor: User | None = None,
    only_badges: Sequence[str] = (),
    grant_end: datetime | None = None,
    now: datetime | None = None,
) -> GateMessage:
    """Queue a signed command to `device`, signed with its secret of this moment."""
    now = now or clock.now()
    command = protocol.build_command(
        device_id=device.device_id,
        secret=device.secret,
        action=action,
        reason=reason,
        message=message,
        grant_end=int(grant_end.timestamp()) if grant_end else None,
        only_badges=list(only_badges),
        now=now.timestamp(),
    )
    row = GateMessage.objects.create(
        device=device,
        kind=GateMessageKind.COMMAND,
        action=action,
        reason=reason,
        message=message,
        actor=actor,
        command_id=command.command_id,
        payload=command.to_json().decode(),
        signing_secret=device.secret,
        created_at=now,
        next_attempt_at=now,
        give_up_at=_give_up_at(now),
    )
    _wake_bridges()
    return row


def outbox_allowlist(
    *, devices: Iterable[GateDevice], now: datetime | None = None
) -> list[GateMessage]:
    """Queue a fresh allow-list for each device, built when it is sent. One still waiting to be
    sent is not queued twice: it will say what the site knows when it goes.

    A waiting row a bridge has claimed but not yet committed (its list built, perhaps before this
    change) is locked: SKIP LOCKED passes over it, and the device gets a new row. Counting it as
    waiting would let a list that still lists a lapsed member be the last one the gate gets.
    """
    now = now or clock.now()
    devices = list(devices)
    with transaction.atomic():
        waiting = set(
            GateMessage.objects.select_for_update(skip_locked=True)
            .filter(
                device__in=devices,
                kind=GateMessageKind.ALLOWLIST,
                state=DeliveryState.QUEUED,
                payload="",
            )
            .values_list("device_id", flat=True)
        )
        rows = GateMessage.objects.bulk_create(
            GateMessage(
                device=device,
                kind=GateMessageKind.ALLOWLIST,
                created_at=now,
                next_attempt_at=now,
                give_up_at=_give_up_at(now),
            )
            for device in devices
            if device.pk not in waiting
        )
        if rows:
            _wake_bridges()
    return rows


def outbox_signed_allowlist(
    *, device: GateDevice, allowlist: protocol.AllowList, now: datetime | None = None
) -> GateMessage:
    """Queue an allow-list signed now (an empty one, under a secret about to be replaced)."""
    now = now or clock.now()
    row = GateMessage.objects.create(
        device=device,
        kind=GateMessageKind.ALLOWLIST,
        allowlist_version=allowlist.version,
        payload=allowlist.to_json().decode(),
        created_at=now,
        next_attempt_at=now,
        give_up_at=_give_up_at(now),
    )
    _wake_bridges()
    return row


# -- what the bridge does ----------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    message_pk: int
    topic: str
    payload: bytes
    retain: bool


def outbox_claim(*, now: datetime | None = None, limit: int = 100) -> list[Outgoing]:
    """Claim the due messages (oldest first, so each gate gets its messages in order) for a
    lease, and give each its payload: commands re-signed if near their expiry, allow-lists built.
    """
    now = now or clock.now()
    due = GateMessage.objects.filter(
        state__in=PENDING_STATES, next_attempt_at__lte=now, give_up_at__gt=now
    )
    if not due.exists():  # the common case, without opening a write transaction
        return []
    # A gate's older commands still waiting (for their retry, their ack, or another bridge's
    # lease) go again before a newer one that is due: a command that failed while the broker
    # was down would otherwise reach the gate after the ones queued during the outage. The
    # gate applies a command id once, so sending one again changes nothing there.
    newer_command_due = due.filter(
        kind=GateMessageKind.COMMAND, device_id=OuterRef("device_id"), pk__gt=OuterRef("pk")
    )
    with transaction.atomic():
        rows = list(
            GateMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("device__machine")
            .filter(state__in=PENDING_STATES, give_up_at__gt=now)
            .filter(
                Q(next_attempt_at__lte=now)
                | Q(kind=GateMessageKind.COMMAND) & Exists(newer_command_due)
            )
            .order_by("id")[:limit]
        )
        # Building a list bumps its gate's version (a row lock on the gate).
        _locked(
            GateDevice.objects.filter(
                pk__in={r.device_id for r in rows if r.kind == GateMessageKind.ALLOWLIST}
            )
        )
        outgoing = []
        for row in rows:
            row.next_attempt_at = now + CLAIM_LEASE
            payload = _payload(row, now=now)
            kind = protocol.Topic.COMMAND if row.kind == GateMessageKind.COMMAND else None
            topic = protocol.gate_topic(row.device.device_id, kind or protocol.Topic.ALLOWLIST)
            outgoing.append(Outgoing(row.pk, topic, payload, retain=kind is None))
        GateMessage.objects.bulk_update(
            rows, ["next_attempt_at", "payload", "allowlist_version"], batch_size=500
        )
    return outgoing


def _payload(row: GateMessage, *, now: datetime) -> bytes:
    if row.kind == GateMessageKind.ALLOWLIST:
        if not row.payload:
            allowlist = allowlist_build(row.device, now=now)
            row.payload, row.allowlist_version = allowlist.to_json().decode(), allowlist.version
        return row.payload.encode()
    command = protocol.Command.from_json(row.payload)
    if command.expires_at - now.timestamp() < RESIGN_MARGIN_SECONDS:
        issued = int(now.timestamp())
        command = protocol.sign(
            dataclasses.replace(
                command, issued_at=issued, expires_at=issued + protocol.COMMAND_TTL
            ),
            row.signing_secret,
        )
        row.payload = command.to_json().decode()
    return row.payload.encode()


def outbox_sent(
    *, delivered: Sequence[int], failed: dict[int, str], now: datetime | None = None
) -> None:
    """Record one round: `delivered` reached the broker (PUBACK), `failed` did not (why).

    Both wait for the gate's acknowledgement, re-sent after a growing delay; a published
    allow-list supersedes the older ones of its gate that are still waiting.
    """
    now = now or clock.now()
    newest_sent_lists = (
        GateMessage.objects.filter(pk__in=delivered, kind=GateMessageKind.ALLOWLIST)
        .values("device_id")
        .annotate(newest=Max("pk"))
    )
    superseded = Q(pk__in=[])
    for sent in newest_sent_lists:
        superseded |= Q(device_id=sent["device_id"], pk__lt=sent["newest"])
    superseded &= Q(kind=GateMessageKind.ALLOWLIST, state__in=PENDING_STATES)
    with transaction.atomic():
        _locked(GateMessage.objects.filter(Q(pk__in=[*delivered, *failed]) | superseded))
        rows = list(GateMessage.objects.filter(pk__in=[*delivered, *failed]))
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = now + timedelta(
                seconds=RETRY_SECONDS[min(row.attempts, len(RETRY_SECONDS)) - 1]
            )
            if row.pk in failed:
                row.last_error = failed[row.pk][:500]
                continue
            row.last_error = ""
            if row.state == DeliveryState.QUEUED:
                row.state, row.delivered_at = DeliveryState.DELIVERED, now
        GateMessage.objects.bulk_update(
            rows, ["attempts", "next_attempt_at", "last_error", "state", "delivered_at"]
        )
        GateMessage.objects.filter(superseded).update(
            state=DeliveryState.SUPERSEDED, settled_at=now
        )


def outbox_acknowledged(
    *, acks: Sequence[tuple[GateDevice, protocol.Ack]], now: datetime | None = None
) -> int:
    """Gates' signed acks, settled together: each gate's commands with those ids and its
    allow-lists up to the version it holds. Returns how many messages they settled."""
    now = now or clock.now()
    settled = Q(pk__in=[])
    for device, ack in acks:
        its = Q(kind=GateMessageKind.COMMAND, command_id__in=ack.command_ids)
        if ack.allowlist_version is not None:
            its |= Q(kind=GateMessageKind.ALLOWLIST, allowlist_version__lte=ack.allowlist_version)
        settled |= Q(its, device=device)
    with transaction.atomic():
        ids = _locked(GateMessage.objects.filter(settled, state__in=PENDING_STATES))
        return GateMessage.objects.filter(pk__in=ids).update(
            state=DeliveryState.ACKNOWLEDGED, acknowledged_at=now, settled_at=now, signing_secret=""
        )


def outbox_gate_back(*, device: GateDevice, now: datetime | None = None) -> None:
    """A gate came (back) online: whatever waits for a retry goes now, whether it reached the
    broker while the gate was away or the broker refused it then (a broker restart). A queued
    message never tried is due already, or claimed by a bridge publishing it."""
    now = now or clock.now()
    with transaction.atomic():
        waiting = GateMessage.objects.filter(
            Q(state=DeliveryState.DELIVERED) | Q(state=DeliveryState.QUEUED, attempts__gt=0),
            device=device,
            next_attempt_at__gt=now,
        )
        GateMessage.objects.filter(pk__in=_locked(waiting)).update(next_attempt_at=now)


def outbox_give_up(*, now: datetime | None = None) -> int:
    """Messages past their give-up time are not delivered (staff see it); by then every grant
    they could have changed has ended."""
    now = now or clock.now()
    with transaction.atomic():
        expired = GateMessage.objects.filter(state__in=PENDING_STATES, give_up_at__lte=now)
        return GateMessage.objects.filter(pk__in=_locked(expired)).update(
            state=DeliveryState.NOT_DELIVERED, settled_at=now, signing_secret=""
        )
