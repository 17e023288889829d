"""The access decision as a service: decide (and log) scans, checking in the bookings they open."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from access.facts import Scan, gather_facts_many
from access.models import AccessEvent, AccessSource, GateDevice
from access.policy import Decision, Reason, decide
from bookings.errors import BookingRejected
from bookings.models import Booking
from bookings.services import booking_check_in
from bookings.states import BookingState
from core import clock
from core.events import ACCESS_DECIDED, emit_each
from equipment.models import Machine


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
    scan = Scan(badge_uid=badge_uid, machine=machine, at=at or clock.now(), device=device)
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
                    request_nonce=scan.request_nonce,
                )
            )
        elapsed = int((time.perf_counter() - started) * 1_000_000)
        for event in events:
            event.decision_microseconds = elapsed
        AccessEvent.objects.bulk_create(events)
        emit_each(ACCESS_DECIDED, events)
    return [AccessResult(d, e) for d, e in zip(decisions, events, strict=True)]


def _check_in_first_scan(booking: Booking, *, at: datetime, already: set[int]) -> None:
    if booking.state != BookingState.CONFIRMED or booking.pk in already:
        return
    already.add(booking.pk)
    # Checked in meanwhile by a scan another bridge answered: the scan stands all the same.
    with contextlib.suppress(BookingRejected):
        booking_check_in(booking=booking, now=at)
