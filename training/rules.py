"""Pure rules of a recurring class's calendar: which days it meets, its first and last date,
and what a change to it does to the sessions already made. Plain values in, plain values out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil import rrule
from django.utils.translation import pgettext_lazy

WEEKDAY_NAMES = (
    pgettext_lazy("weekday", "Mon"),
    pgettext_lazy("weekday", "Tue"),
    pgettext_lazy("weekday", "Wed"),
    pgettext_lazy("weekday", "Thu"),
    pgettext_lazy("weekday", "Fri"),
    pgettext_lazy("weekday", "Sat"),
    pgettext_lazy("weekday", "Sun"),
)
WEEKLY, FORTNIGHTLY, MONTHLY = "weekly", "fortnightly", "monthly"


def weekdays_label(weekdays: Sequence[int]) -> str:
    """'Tue, Thu' for [1, 3]."""
    return ", ".join(str(WEEKDAY_NAMES[day]) for day in sorted(set(weekdays)))


def first_meeting(first_date: date, weekdays: Sequence[int]) -> date:
    """The first day on or after `first_date` that is one of `weekdays` (none: `first_date`)."""
    if not weekdays:
        return first_date
    return next(
        first_date + timedelta(days=ahead)
        for ahead in range(7)
        if (first_date + timedelta(days=ahead)).weekday() in weekdays
    )


def meeting_dates(
    *,
    first: date,
    frequency: str,
    weekdays: Sequence[int],
    until: date | None = None,
    count: int | None = None,
    limit: int = 1000,
) -> list[date]:
    """The local dates a series meets on from `first` (at most `count`, up to `until`): every
    week on `weekdays`, or every two weeks / every month on `first`'s weekday / day."""
    start = datetime.combine(first, time())
    kwargs: dict = {"dtstart": start, "count": count or limit}
    if until is not None:
        kwargs["until"] = datetime.combine(until, time.max)
    if frequency == WEEKLY:
        rule = rrule.rrule(
            rrule.DAILY, byweekday=sorted(set(weekdays or [first.weekday()])), **kwargs
        )
    elif frequency == FORTNIGHTLY:
        rule = rrule.rrule(rrule.WEEKLY, interval=2, **kwargs)
    elif frequency == MONTHLY:
        rule = rrule.rrule(rrule.MONTHLY, **kwargs)
    else:
        raise ValueError(f"{frequency!r} is not a repeat we offer")
    return [moment.date() for moment in rule]


def last_date_of(*, first: date, frequency: str, weekdays: Sequence[int], count: int) -> date:
    """The date of the `count`th class: a series of N classes ends there."""
    return meeting_dates(first=first, frequency=frequency, weekdays=weekdays, count=count)[-1]


@dataclass(frozen=True)
class SessionFacts:
    """What a change to a series needs to know of one of its sessions still to come."""

    id: int
    members: int  # enrolled or waitlisted now
    any_enrollment: bool  # any enrollment row at all, cancelled ones too


@dataclass(frozen=True)
class SeriesChangePlan:
    """What a change to a series does to its sessions to come: `kept` have members and stay as
    they are (their members are told); `removed` had nobody and are replaced by the new
    schedule's; `cancelled` had only cancelled enrollments, kept in their history."""

    kept: tuple[int, ...]
    removed: tuple[int, ...]
    cancelled: tuple[int, ...]


def series_change_plan(sessions: Sequence[SessionFacts]) -> SeriesChangePlan:
    """Sessions with members stay as they were booked; the others follow the new schedule."""
    return SeriesChangePlan(
        kept=tuple(s.id for s in sessions if s.members),
        removed=tuple(s.id for s in sessions if not s.members and not s.any_enrollment),
        cancelled=tuple(s.id for s in sessions if not s.members and s.any_enrollment),
    )
