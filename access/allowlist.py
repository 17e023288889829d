"""The signed offline allow-list each gate keeps for when the site cannot answer in time.

Built from the same decision every scan goes through: a badge is listed for a booking window only
if the access decision allows it at the window's start, so the list never says more than the site.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest

from access.facts import Scan
from access.models import AccessSource, GateDevice
from access.policy import Decision, Reason
from access.services import access_decide_many
from bookings.models import ACTIVE_STATES, Booking
from bookings.selectors import check_in_opens
from core import clock
from gate_agent import protocol
from membership.models import Badge


def _window_entries(device: GateDevice, *, now: datetime, until: datetime) -> list:
    machine = device.machine
    opens_early = check_in_opens()
    windows = [
        (badge.uid, max(booking.start - opens_early, now), booking.end, True)
        for booking in Booking.objects.filter(
            machine=machine, state__in=ACTIVE_STATES, end__gt=now, start__lt=until
        ).prefetch_related("member__badges")
        for badge in booking.member.badges.all()
        if badge.enabled
    ]
    # Maintainers keep their machine usable during an outage, for the list's lifetime.
    windows += [
        (badge.uid, now, until, False)
        for badge in Badge.objects.filter(enabled=True, member__user__in=machine.maintainers.all())
    ]
    # A window is listed only if the access decision allows it at its start. A booking window
    # allowed as a booking runs to its own end: at its check-in the member's booking just before
    # it may be the one covering the instant, and the decision's grant ends with that one. One
    # allowed on a staff grant (an instructor's booking) is cut at the grant's end, one allowed
    # on a day pass at the end of the pass's day.
    results = access_decide_many(
        [Scan(badge_uid=uid, machine=machine, at=start, now=False) for uid, start, _, _ in windows],
        source=AccessSource.ALLOWLIST,
    )
    return [
        protocol.allowlist_entry(
            badge_uid=uid,
            window_start=int(start.timestamp()),
            window_end=int(_window_end(result.decision, end, booked=booked).timestamp()),
            secret=device.secret,
        )
        for (uid, start, end, booked), result in zip(windows, results, strict=True)
        # Every window is decided: none is a gate's request.
        if result is not None and result.decision.allowed
    ]


def _window_end(decision: Decision, end: datetime, *, booked: bool) -> datetime:
    # Allowed on a day pass alone: never past the pass's day, whatever the booking says.
    if decision.standing_until is not None:
        end = min(end, decision.standing_until)
    if not booked or decision.reason == Reason.ALLOWED_BOOKING:
        return end
    return min(decision.grant_end, end)


def allowlist_build(device: GateDevice, *, now: datetime | None = None) -> protocol.AllowList:
    """A new signed allow-list for `device`, with the next version number; empty for a disabled
    gate, so one that still listens grants nothing offline."""
    now = now or clock.now()
    until = now + timedelta(hours=settings.GATE_ALLOWLIST_HOURS)
    with transaction.atomic():
        version = _next_version(device, now=now)
        entries = _window_entries(device, now=now, until=until) if device.enabled else []
    return _signed(device, version=version, now=now, until=until, entries=entries)


def allowlist_empty(device: GateDevice, *, now: datetime | None = None) -> protocol.AllowList:
    """A signed list with no one on it and the next version: a gate that adopts it grants
    nothing offline any more (sent to a gate being disabled or losing its secret)."""
    now = now or clock.now()
    until = now + timedelta(hours=settings.GATE_ALLOWLIST_HOURS)
    return _signed(device, version=_next_version(device, now=now), now=now, until=until, entries=[])


def _next_version(device: GateDevice, *, now: datetime) -> int:
    # Versions follow the clock (milliseconds) as well as growing by one, so a database
    # restored from a backup still out-versions the lists the gates already hold.
    GateDevice.objects.filter(pk=device.pk).update(
        allowlist_version=Greatest(F("allowlist_version") + 1, int(now.timestamp() * 1000))
    )
    device.refresh_from_db(fields=["allowlist_version"])
    return device.allowlist_version


def _signed(
    device: GateDevice, *, version: int, now: datetime, until: datetime, entries: list
) -> protocol.AllowList:
    return protocol.build_allowlist(
        device_id=device.device_id,
        secret=device.secret,
        version=version,
        now=now.timestamp(),
        valid_until=int(until.timestamp()),
        entries=entries,
    )
