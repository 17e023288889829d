"""The access decision as a service: decide (and log) scans, checking in the bookings they open."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from access.facts import Scan, gather_facts_many
from access.models import AccessEvent, AccessSource, GateDevice
from access.policy import Decision, Reason, decide
from bookings.models import Booking
from bookings.selectors import check_in_opens
from bookings.states import BookingState
from core import clock
from core.events import ACCESS_DECIDED, BOOKING_CHECKED_IN, emit, emit_each
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
    [result] = access_decide_many([scan], source=source)
    assert result is not None, "only a gate's request can go undecided"
    return result


def access_decide_many(scans: Sequence[Scan], *, source: str) -> list[AccessResult | None]:
    """Decide and log the scans, in order, in one transaction and a fixed number of queries:
    the facts in one statement, a check-in one conditional update, the events one insert. Each
    event records how long its batch took to decide.

    A gate's request (`Scan.request_nonce`) is not decided (None) when its gate changed since
    the caller read it (`Scan.device`: disabled, moved to another machine, a new secret) or the
    request is in the access log already; two bridges answering one request at once meet the
    log's unique nonce per gate (IntegrityError). Any other scan is always decided.
    """
    if not scans:
        return []
    started = time.perf_counter()
    with transaction.atomic():
        gathered = gather_facts_many(scans)
        staff_grant = _staff_grant()
        decided: list[tuple[Decision, AccessEvent] | None] = []
        events = []
        for scan, facts in zip(scans, gathered, strict=True):
            if not facts.gate_current or facts.answered:
                decided.append(None)
                continue
            decision = decide(facts.facts, staff_grant=staff_grant)
            booking_id = facts.booking_id if decision.reason is Reason.ALLOWED_BOOKING else None
            if booking_id is not None and facts.booking_confirmed and source == AccessSource.GATE:
                _check_in(booking_id, at=scan.at)
            event = AccessEvent(
                at=scan.at,
                source=source,
                badge_uid=scan.badge_uid[:40],
                # By id: a bridge's gates and their machines are cached, and whoever reads
                # the event (a webhook's payload) reads them as they are now.
                device_id=scan.device.pk if scan.device is not None else None,
                machine_id=scan.machine.pk,
                member_id=facts.member_id,
                booking_id=booking_id,
                allowed=decision.allowed,
                reason=decision.reason.value,
                grant_end=decision.grant_end,
                request_nonce=scan.request_nonce,
            )
            events.append(event)
            decided.append((decision, event))
        elapsed = int((time.perf_counter() - started) * 1_000_000)
        for event in events:
            event.decision_microseconds = elapsed
        AccessEvent.objects.bulk_create(events)
        emit_each(ACCESS_DECIDED, events)
    return [AccessResult(*pair) if pair is not None else None for pair in decided]


def _check_in(booking_id: int, *, at: datetime) -> None:
    """The first allowed gate scan of a confirmed booking checks it in: one conditional update,
    as `bookings.services.booking_check_in` would (`bookings.rules.check_in_refusal`). Checked
    in meanwhile by a scan another bridge answered, it updates nothing and the scan stands."""
    checked_in = Booking.objects.filter(
        pk=booking_id,
        state=BookingState.CONFIRMED,
        start__lte=at + check_in_opens(),
        end__gt=at,
    ).update(state=BookingState.CHECKED_IN, checked_in_at=at, checked_in_by=None)
    if checked_in:
        emit(BOOKING_CHECKED_IN, Booking.objects.get(pk=booking_id))
