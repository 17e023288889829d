"""Metered machine time as plain rules: which sessions are charged, how a session is cut at local
month boundaries, and what each part costs after the plan's included hours. No Django here.

Times are aware datetimes; durations are whole seconds; money is integer minor units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo


class Grant(StrEnum):
    """Who the gate switched on for, which decides whether the time is charged."""

    BOOKING = "booking"
    INSTRUCTOR = "instructor"
    MAINTAINER = "maintainer"

    @property
    def label(self) -> str:
        return GRANT_LABELS[self]


GRANT_LABELS = {
    Grant.BOOKING: "Booked time",
    Grant.INSTRUCTOR: "Instructor time",
    Grant.MAINTAINER: "Staff time (maintainer)",
}


def session_grant(*, reason: str, booked: bool) -> Grant:
    """The grant of a session from the reason its gate reported at the start.

    Instructor and maintainer grants are staff time even with a booking; a booking grant is
    booked time even when the session started in the check-in minutes before the booking. An
    offline start (the allow-list) or one recorded before reasons were kept is booked time if a
    booking covered it, else it was a maintainer's window.
    """
    if reason == "allowed_booking":
        return Grant.BOOKING
    if reason == "allowed_instructor":
        return Grant.INSTRUCTOR
    if reason == "allowed_maintainer":
        return Grant.MAINTAINER
    return Grant.BOOKING if booked else Grant.MAINTAINER


@dataclass(frozen=True)
class Rate:
    per_minute_minor: int
    step_minutes: int = 1
    minimum_minor: int = 0
    charge_instructors: bool = False
    charge_maintainers: bool = False

    def charges(self, grant: Grant) -> bool:
        """Booked time is always charged; staff time only when the rate says so."""
        if grant is Grant.INSTRUCTOR:
            return self.charge_instructors
        if grant is Grant.MAINTAINER:
            return self.charge_maintainers
        return True


@dataclass(frozen=True)
class MonthPart:
    """The stretch of a session that falls in one local calendar month."""

    month: date  # the month's first day, in the location's zone
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return int((self.end.astimezone(UTC) - self.start.astimezone(UTC)).total_seconds())


def month_start(moment: datetime, zone: ZoneInfo) -> date:
    """The first day of the local month `moment` falls in."""
    return moment.astimezone(zone).date().replace(day=1)


def next_month_begins(month: date, zone: ZoneInfo) -> datetime:
    """The instant (local midnight, whatever the offset) the month after `month` begins."""
    return datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=zone)


def month_parts(start: datetime, end: datetime, zone: ZoneInfo) -> list[MonthPart]:
    """Cut [start, end) at each local midnight that starts a month (in `zone`, so a session on
    the evening of the 31st in Seoul is already November there while still October in UTC).
    Durations count real elapsed time, so a DST change inside a part neither adds nor loses an
    hour."""
    parts = []
    cursor = start
    while cursor < end:
        month = month_start(cursor, zone)
        boundary = min(next_month_begins(month, zone), end)
        parts.append(MonthPart(month, cursor, boundary))
        cursor = boundary
    return parts


def charged_minutes(seconds: int, *, step_minutes: int) -> int:
    """Seconds to charge, as minutes rounded up to a whole number of steps (0 stays 0)."""
    return math.ceil(seconds / (step_minutes * 60)) * step_minutes


def minutes_price(minutes: int, rate: Rate) -> int:
    """The price of charged minutes: the per-minute rate, at least the minimum once charged."""
    if minutes <= 0:
        return 0
    return max(minutes * rate.per_minute_minor, rate.minimum_minor)


@dataclass(frozen=True)
class PartCharge:
    seconds: int  # the part's time on the machine
    included_seconds: int  # of which the plan's included hours covered
    charged_minutes: int  # the rest, rounded up to the rate's step
    amount_minor: int
    charged: bool  # False: staff time the rate does not charge


def part_charge(*, seconds: int, grant: Grant, rate: Rate, included_left: int) -> PartCharge:
    """What one month part costs: included hours first, the rest rounded up and priced. Staff
    time the rate does not charge uses no included hours either."""
    if not rate.charges(grant):
        return PartCharge(seconds, 0, 0, 0, charged=False)
    included = min(seconds, max(included_left, 0))
    minutes = charged_minutes(seconds - included, step_minutes=rate.step_minutes)
    return PartCharge(seconds, included, minutes, minutes_price(minutes, rate), charged=True)


def month_charges(
    seconds_in_order: list[tuple[int, Grant]], *, rate: Rate, included_seconds: int, used: int = 0
) -> list[PartCharge]:
    """Charge a member's parts of one month on one machine in the order they started: each
    takes what is left of the included hours after `used` (parts charged before) and those
    before it."""
    charges = []
    left = included_seconds - used
    for seconds, grant in seconds_in_order:
        charge = part_charge(seconds=seconds, grant=grant, rate=rate, included_left=left)
        left -= charge.included_seconds
        charges.append(charge)
    return charges
