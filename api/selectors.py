"""What each API caller may read: one function per collection, taking the caller.

Staff collections take the staff `user` and are narrowed to the locations where they hold the
Staff role (staffing.selectors.staff_scope, docs/locations.md), so every endpoint follows. Member collections take the member and never reach another's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db.models import Model, Q, QuerySet

from access.models import AccessEvent, AccessSource, GateDevice, UsageSession
from api.models import ApiCredential, CredentialKind
from bookings.models import Booking
from bookings.states import ACTIVE_STATES
from core.time import utc
from equipment.models import Machine
from equipment.rules import merge_intervals
from equipment.selectors import machine_calendar_facts, machines_bookable
from membership.models import Badge, Member, User
from membership.selectors import member_search
from staffing.selectors import staff_scope
from training.models import ClassSession, Enrollment, EnrollmentStatus
from training.selectors import sessions_with_seats

Interval = tuple[datetime, datetime]
M = TypeVar("M", bound=Model)


def member_of(user: User) -> Member | None:
    return Member.objects.select_related("user").filter(user=user).first()


def _in_span(
    rows: QuerySet[M],
    *,
    start_field: str,
    end_field: str | None,
    start: datetime | None,
    end: datetime | None,
) -> QuerySet[M]:
    """Rows that overlap [start, end): started before `end` and ended (or not yet) after `start`."""
    if end is not None:
        rows = rows.filter(**{f"{start_field}__lt": end})
    if start is not None:
        if end_field is None:
            rows = rows.filter(**{f"{start_field}__gte": start})
        else:
            rows = rows.filter(
                Q(**{f"{end_field}__gt": start}) | Q(**{f"{end_field}__isnull": True})
            )
    return rows


def member_bookings(
    member: Member, *, start: datetime | None, end: datetime | None, state: str | None
) -> QuerySet[Booking]:
    rows = Booking.objects.filter(member=member).select_related("machine")
    if state:
        rows = rows.filter(state=state)
    return _in_span(rows, start_field="start", end_field="end", start=start, end=end)


def member_booking(member: Member, booking_id: int) -> Booking | None:
    return Booking.objects.select_related("machine").filter(member=member, pk=booking_id).first()


def machines(*, location: str | None = None) -> QuerySet[Machine]:
    rows = machines_bookable().select_related("location", "area")
    if location:
        rows = rows.filter(location__slug=location)
    return rows


def machine_by_slug(slug: str) -> Machine | None:
    return machines().filter(slug=slug).first()


@dataclass(frozen=True)
class Availability:
    opening: list[Interval] | None
    busy: list[tuple[datetime, datetime, str, str]]
    free: list[Interval]


def machine_availability(machine: Machine, *, start: datetime, end: datetime) -> Availability:
    """When `machine` is open, held (bookings with their buffer, maintenance, classes) and free
    in [start, end). Who booked is not said."""
    start, end = utc(start), utc(end)
    facts = machine_calendar_facts(machine, start=start, end=end)
    busy: list[tuple[datetime, datetime, str, str]] = [
        (utc(b_start), utc(b_end), "booked", "Booked")
        for b_start, b_end in Booking.objects.filter(
            machine=machine, state__in=ACTIVE_STATES, start__lt=end, blocked_until__gt=start
        ).values_list("start", "blocked_until")
    ]
    for b_start, b_end, label in facts.blocks:
        kind = "class" if label.startswith("Class") else "maintenance"
        busy.append((b_start, b_end, kind, label))
    busy.sort()
    opening = facts.opening
    windows = [(max(s, start), min(e, end)) for s, e in (opening or [(start, end)])]
    held = merge_intervals([(max(s, start), min(e, end)) for s, e, _, _ in busy])
    free: list[Interval] = []
    for w_start, w_end in windows:
        cursor = w_start
        for h_start, h_end in held:
            if h_end <= cursor or h_start >= w_end:
                continue
            if h_start > cursor:
                free.append((cursor, h_start))
            cursor = max(cursor, h_end)
        if cursor < w_end:
            free.append((cursor, w_end))
    return Availability(opening=opening, busy=busy, free=free)


def class_sessions(
    *, start: datetime | None, end: datetime | None, location: str | None = None
) -> QuerySet[ClassSession]:
    rows = sessions_with_seats()
    if location:
        rows = rows.filter(location__slug=location)
    return _in_span(rows, start_field="start", end_field="end", start=start, end=end)


def member_enrollment_states(member: Member, session_ids: list[int]) -> dict[int, str]:
    return dict(
        Enrollment.objects.filter(
            member=member,
            session_id__in=session_ids,
            status__in=[EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED],
        ).values_list("session_id", "status")
    )


def member_usage(
    member: Member, *, start: datetime | None, end: datetime | None
) -> QuerySet[UsageSession]:
    rows = UsageSession.objects.filter(member=member).select_related("machine")
    return _in_span(rows, start_field="started_at", end_field="ended_at", start=start, end=end)


# Staff collections: `user` is the staff member asking (the hook for per-location scopes).


def staff_members(user: User, *, query: str = "") -> QuerySet[Member]:
    rows = member_search(query) if query.strip() else Member.objects.all()
    return staff_scope(user).filter(rows.select_related("user", "membership"), "home_location")


def staff_member(user: User, member_id: int) -> Member | None:
    return staff_members(user).filter(pk=member_id).first()


def staff_badges(
    user: User, *, member_id: int | None = None, enabled: bool | None = None
) -> QuerySet[Badge]:
    rows = staff_scope(user).filter(Badge.objects.all(), "member__home_location")
    if member_id is not None:
        rows = rows.filter(member_id=member_id)
    if enabled is not None:
        rows = rows.filter(enabled=enabled)
    return rows


def staff_badge(user: User, badge_id: int) -> Badge | None:
    return staff_badges(user).select_related("member").filter(pk=badge_id).first()


def staff_access_events(
    user: User,
    *,
    start: datetime | None,
    end: datetime | None,
    machine: str | None = None,
    member_id: int | None = None,
    allowed: bool | None = None,
    location: str | None = None,
) -> QuerySet[AccessEvent]:
    # The allow-list builds are the site's own look-ahead decisions, not anyone at a machine.
    rows = staff_scope(user).filter(
        AccessEvent.objects.exclude(source=AccessSource.ALLOWLIST).select_related(
            "machine", "device"
        ),
        "machine__location",
    )
    if machine:
        rows = rows.filter(machine__slug=machine)
    if member_id is not None:
        rows = rows.filter(member_id=member_id)
    if allowed is not None:
        rows = rows.filter(allowed=allowed)
    if location:
        rows = rows.filter(machine__location__slug=location)
    return _in_span(rows, start_field="at", end_field=None, start=start, end=end)


def staff_usage_sessions(
    user: User,
    *,
    start: datetime | None,
    end: datetime | None,
    machine: str | None = None,
    member_id: int | None = None,
    location: str | None = None,
) -> QuerySet[UsageSession]:
    rows = staff_scope(user).filter(
        UsageSession.objects.select_related("machine"), "machine__location"
    )
    if machine:
        rows = rows.filter(machine__slug=machine)
    if location:
        rows = rows.filter(machine__location__slug=location)
    if member_id is not None:
        rows = rows.filter(member_id=member_id)
    return _in_span(rows, start_field="started_at", end_field="ended_at", start=start, end=end)


def staff_gates(user: User, *, location: str | None = None) -> QuerySet[GateDevice]:
    rows = staff_scope(user).filter(
        GateDevice.objects.select_related("machine"), "machine__location"
    )
    if location:
        rows = rows.filter(machine__location__slug=location)
    return rows


def staff_gate(user: User, device_id: str) -> GateDevice | None:
    return staff_gates(user).filter(device_id=device_id).first()


def user_tokens(user: User) -> QuerySet[ApiCredential]:
    return ApiCredential.objects.filter(user=user, kind=CredentialKind.TOKEN)


def api_keys() -> QuerySet[ApiCredential]:
    return ApiCredential.objects.filter(kind=CredentialKind.KEY).select_related("user")
