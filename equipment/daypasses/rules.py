"""Pure rules of day passes: which machine a pass opens, on which instants, and which days sell.

No database here: the selectors hand over what a pass covers (`PassCover`) and the zone of the
machine's location. A pass opens a machine only if its product names the machine (or the
machine's certification, a machine class) and the machine's location, and only from local
midnight to local midnight of its day in that location's zone (23 or 25 hours on a day the
clocks change). The machine's certification is still needed: the access policy checks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from django.utils.translation import gettext_lazy

from core.time import local_day_bounds, utc


@dataclass(frozen=True)
class PassCover:
    """What one paid pass opens: its holder, its day, and its product's machines, machine
    classes (certification ids) and locations."""

    holder_id: int
    day: date
    machine_ids: frozenset[int]
    certification_ids: frozenset[int]
    location_ids: frozenset[int]


@dataclass(frozen=True)
class PassMachine:
    """The machine a pass is asked about: its id, the certification it needs, where it is."""

    machine_id: int
    certification_id: int | None
    location_id: int
    zone: tzinfo


def pass_names_machine(cover: PassCover, machine: PassMachine) -> bool:
    if machine.location_id not in cover.location_ids:
        return False
    if machine.machine_id in cover.machine_ids:
        return True
    return (
        machine.certification_id is not None and machine.certification_id in cover.certification_ids
    )


def pass_open_until(
    covers: Iterable[PassCover], *, holder_id: int, machine: PassMachine, at: datetime
) -> datetime | None:
    """The end of the pass day that opens `machine` to `holder_id` at `at` (the next local
    midnight at the machine's location), or None when no pass of theirs does."""
    local_day = utc(at).astimezone(machine.zone).date()
    for cover in covers:
        if (
            cover.holder_id == holder_id
            and cover.day == local_day
            and pass_names_machine(cover, machine)
        ):
            return local_day_bounds(local_day, machine.zone)[1]
    return None


def pass_covers_span(
    covers: Iterable[PassCover],
    *,
    holder_id: int,
    machine: PassMachine,
    start: datetime,
    end: datetime,
) -> bool:
    """Whether one pass day opens `machine` for all of `start` to `end` (a booking)."""
    until = pass_open_until(covers, holder_id=holder_id, machine=machine, at=start)
    return until is not None and utc(end) <= until


# Why a day cannot be sold, as the buyer reads it.
DAY_PAST = gettext_lazy("That day is over: a day pass is for today or a day to come.")
DAY_TOO_FAR = gettext_lazy("Day passes are sold at most %(days)s days ahead.")


def day_pass_day_refusal(*, day: date, todays: Iterable[date], ahead_days: int) -> str | None:
    """Why a pass for `day` cannot be sold, or None. `todays`: today's date in the zone of each
    location the product names. The day must not be over at every one of them (it is still
    today where the clock is behind), nor more than `ahead_days` after the earliest today."""
    earliest = min(todays)
    if day < earliest:
        return str(DAY_PAST)
    if (day - earliest).days > ahead_days:
        return DAY_TOO_FAR % {"days": ahead_days}
    return None
