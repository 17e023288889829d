"""Access actions: decide (and log) a scan, push signed switch-offs and extends to the gates."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from access import mqtt
from access.facts import Scan, gather_facts_many
from access.models import AccessEvent, AccessSource, GateCommand, GateDevice
from access.policy import Decision, Reason, decide
from bookings.errors import BookingRejected
from bookings.models import Booking, BookingState
from bookings.services import booking_check_in
from equipment.models import Machine
from gate_agent import protocol
from membership.models import Member


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
        staff_grant = _staff_grant()
        decisions = [decide(g.facts, staff_grant=staff_grant) for g in gathered]
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


def gate_command_push(
    *,
    devices: Iterable[GateDevice],
    action: str,
    reason: str,
    message: str,
    actor=None,
    only_badges: Sequence[str] = (),
    grant_end: datetime | None = None,
) -> None:
    """Send a signed command to `devices` once the caller's transaction commits, and record it.

    Signed now, with each device's secret of this moment. With `only_badges` (UIDs), the gates
    act only on a session started with one of them.
    """
    now = time.time()
    outgoing = []
    for device in devices:
        command = protocol.build_command(
            device_id=device.device_id,
            secret=device.secret,
            action=action,
            reason=reason,
            message=message,
            grant_end=int(grant_end.timestamp()) if grant_end else None,
            only_badges=list(only_badges),
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
    gate_command_push(
        devices=machine.gate_devices.filter(enabled=True),
        action=protocol.ACTION_SWITCH_OFF,
        reason=reason,
        message=message,
        actor=actor,
        only_badges=only_badges,
    )


def gate_extend_booking(*, booking: Booking) -> None:
    """A booking made longer while its member works: their session runs to the new end."""
    if not machines_member_may_be_using(booking.member).filter(pk=booking.machine_id).exists():
        return
    gate_command_push(
        devices=booking.machine.gate_devices.filter(enabled=True),
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
