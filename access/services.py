"""Access actions: decide (and log) a scan, register gates, push switch-offs and allow-lists."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from access import mqtt
from access.broker import mosquitto_password_hash
from access.facts import Scan, gather_facts_many
from access.models import AccessEvent, AccessSource, GateCommand, GateDevice
from access.policy import Decision, Reason, decide
from bookings.errors import BookingRejected
from bookings.models import Booking, BookingState
from bookings.services import booking_check_in
from equipment.models import Machine
from gate_agent import protocol
from membership.models import Member


class AccessError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class AccessResult:
    decision: Decision
    event: AccessEvent


def _staff_grant() -> timedelta:
    return timedelta(minutes=settings.GATE_STAFF_GRANT_MINUTES)


def access_decide(
    *,
    badge_uid: str,
    machine: Machine,
    source: str,
    at: datetime | None = None,
    device: GateDevice | None = None,
) -> AccessResult:
    """Decide whether `badge_uid` may switch `machine` on at `at`, and write the access log.

    The first allowed gate scan of a booking checks it in.
    """
    scan = Scan(badge_uid=badge_uid, machine=machine, at=at or timezone.now(), device=device)
    return access_decide_many([scan], source=source)[0]


def access_decide_many(scans: Sequence[Scan], *, source: str) -> list[AccessResult]:
    """`access_decide` for many scans, in order, with one transaction and a fixed number of
    queries. Each event records how long its batch took to decide."""
    if not scans:
        return []
    started = time.perf_counter()
    with transaction.atomic():
        gathered = gather_facts_many(scans)
        decisions = [decide(g.facts, staff_grant=_staff_grant()) for g in gathered]
        checked_in: set[int] = set()
        events = []
        for scan, facts, decision in zip(scans, gathered, decisions, strict=True):
            booking = facts.booking if decision.reason is Reason.ALLOWED_BOOKING else None
            if booking and source == AccessSource.GATE:
                _check_in_first_scan(booking, at=scan.at, already=checked_in)
            events.append(
                AccessEvent(
                    at=scan.at,
                    source=source,
                    badge_uid=scan.badge_uid[:40],
                    device=scan.device,
                    machine=scan.machine,
                    member=facts.member,
                    booking=booking,
                    allowed=decision.allowed,
                    reason=decision.reason.value,
                    grant_end=decision.grant_end,
                )
            )
        elapsed = int((time.perf_counter() - started) * 1_000_000)
        for event in events:
            event.decision_microseconds = elapsed
        AccessEvent.objects.bulk_create(events)
    return [AccessResult(d, e) for d, e in zip(decisions, events, strict=True)]


def _check_in_first_scan(booking: Booking, *, at: datetime, already: set[int]) -> None:
    if booking.state != BookingState.CONFIRMED or booking.pk in already:
        return
    already.add(booking.pk)
    # Checked in meanwhile by a scan another bridge answered: the scan stands all the same.
    with contextlib.suppress(BookingRejected):
        booking_check_in(booking=booking, now=at)


@dataclass(frozen=True)
class DeviceCredentials:
    """Shown to staff once, at registration: the site keeps only what it needs."""

    device: GateDevice
    secret: str
    mqtt_password: str


def gate_device_register(*, machine: Machine, device_id: str) -> DeviceCredentials:
    device_id = device_id.strip()
    try:
        protocol.gate_topic(device_id, protocol.Topic.REQUEST)
    except protocol.ProtocolError:
        raise AccessError(
            "A device id uses letters, digits, '-' and '_' only (for example laser-1)."
        ) from None
    if GateDevice.objects.filter(device_id=device_id).exists():
        raise AccessError(f"A gate called {device_id!r} is already registered.")
    secret = protocol.new_device_secret()
    password = secrets.token_urlsafe(24)
    device = GateDevice.objects.create(
        machine=machine,
        device_id=device_id,
        secret=secret,
        mqtt_username=f"gate-{device_id}",
        mqtt_password_hash=mosquitto_password_hash(password),
    )
    return DeviceCredentials(device, secret, password)


def _push_command(
    *,
    machine: Machine,
    action: str,
    reason: str,
    message: str,
    actor=None,
    only_badges: list[str],
    grant_end: datetime | None = None,
) -> None:
    """Send a signed command to every gate of `machine` once the caller's transaction commits.

    With `only_badges` (UIDs), the gates act only on a session started with one of them.
    """
    now = time.time()
    outgoing = []
    for device in machine.gate_devices.filter(enabled=True):
        command = protocol.build_command(
            device_id=device.device_id,
            secret=device.secret,
            action=action,
            reason=reason,
            message=message,
            grant_end=int(grant_end.timestamp()) if grant_end else None,
            only_badges=only_badges,
            now=now,
        )
        GateCommand.objects.create(
            device=device, action=action, reason=reason, message=message, actor=actor
        )
        topic = protocol.gate_topic(device.device_id, protocol.Topic.COMMAND)
        outgoing.append((topic, command.to_json(), False))
    transaction.on_commit(lambda: mqtt.publish_now(outgoing))


def gate_switch_off(
    *, machine: Machine, reason: str, message: str, actor=None, only_badges: list[str] = ()
) -> None:
    """Tell the gates of `machine` to switch off now (only sessions of `only_badges`, if given)."""
    _push_command(
        machine=machine,
        action=protocol.ACTION_SWITCH_OFF,
        reason=reason,
        message=message,
        actor=actor,
        only_badges=list(only_badges),
    )


def gate_extend_booking(*, booking: Booking) -> None:
    """A booking made longer while its member works: their session runs to the new end."""
    if not machines_member_may_be_using(booking.member).filter(pk=booking.machine_id).exists():
        return
    _push_command(
        machine=booking.machine,
        action=protocol.ACTION_EXTEND,
        reason="booking_extended",
        message=f"Your booking now ends at {timezone.localtime(booking.end):%H:%M}.",
        only_badges=_recent_badges(booking.member),
        grant_end=booking.end,
    )


def _recent_badges(member: Member) -> list[str]:
    """The member's badges a running session can have started with, newest first."""
    badges = member.badges.order_by("-issued_at").values_list("uid", flat=True)
    return list(badges[: protocol.MAX_COMMAND_BADGES])


def machines_member_may_be_using(member: Member, *, at: datetime | None = None):
    """Machines on which `member` holds a grant that has not ended, or a session a gate reported
    running (its grant may have been extended since): where their switch-offs must go."""
    at = at or timezone.now()
    granted = Q(
        access_events__member=member,
        access_events__allowed=True,
        access_events__grant_end__gt=at,
    )
    running = Q(usage_sessions__member=member, usage_sessions__ended_at__isnull=True)
    return Machine.objects.filter(granted | running).distinct()


def gate_switch_off_member(
    *, member: Member, reason: str, message: str, machines=None
) -> list[Machine]:
    """Switch off every machine `member` may be running (optionally only among `machines`)."""
    running = machines_member_may_be_using(member)
    if machines is not None:
        running = running.filter(pk__in=[m.pk for m in machines])
    stopped = list(running)
    for machine in stopped:
        gate_switch_off(
            machine=machine, reason=reason, message=message, only_badges=_recent_badges(member)
        )
    return stopped


def gate_switch_off_booking(*, booking: Booking, reason: str, message: str) -> None:
    """A cancelled or shortened booking: stop its machine if this member is on it."""
    gate_switch_off_member(
        member=booking.member, reason=reason, message=message, machines=[booking.machine]
    )


def gate_emergency_stop(*, machine: Machine, actor) -> None:
    gate_switch_off(
        machine=machine,
        reason="emergency_stop",
        message=f"Emergency stop by {actor}",
        actor=actor,
    )
