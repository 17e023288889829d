"""Recurring classes that hold machines: a series' sessions are made by training's scheduling
and each holds the series' machines (`services.class_session_reserve_machines`), in one
transaction: the bookings in the way are cancelled, their members emailed, their gates told."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, time, timedelta
from typing import Any

from django.utils.translation import gettext as _

from bookings.services import class_session_reserve_machines
from core.errors import DomainError
from equipment.models import Machine
from locations.models import Area, Location
from membership.models import User
from training import scheduling
from training.models import Certification, ClassSeries, ClassSession


def _holder(machines: Sequence[Machine] | None, actor: User | None) -> scheduling.SeriesFollowUp:
    """The follow-up that sets the series' machines (None: as they are) and holds them for each
    new session."""

    def hold(series: ClassSeries, sessions: list[ClassSession]) -> None:
        if machines is not None:
            elsewhere = [m for m in machines if m.location_id != series.location_id]
            if elsewhere:
                raise DomainError(
                    _("%(machine)s is not at %(location)s: a class holds machines where it meets.")
                    % {"machine": elsewhere[0], "location": series.location}
                )
            series.machines.set(machines)  # type: ignore[attr-defined]
        held = list(series.machines.all())  # type: ignore[attr-defined]
        for session in sessions if held else []:
            class_session_reserve_machines(session=session, machines=held, actor=actor)

    return hold


def class_series_create(
    *,
    certification: Certification,
    instructor: User,
    location: Location,
    area: Area | None,
    frequency: str,
    weekdays: Sequence[int],
    first_date: date,
    at: time,
    minutes: int,
    until: date | None,
    count: int | None,
    capacity: int,
    place: str,
    fee_minor: int | None,
    machines: Sequence[Machine],
    actor: User,
    token: uuid.UUID | None = None,
) -> ClassSeries:
    """Schedule a recurring class on the wall clock of `location` (Setup's form): its sessions
    12 weeks ahead, each holding `machines`."""
    weekdays = weekdays if frequency == scheduling.Frequency.WEEKLY else ()
    start, end = scheduling.series_first_class(
        location=location, first_date=first_date, at=at, minutes=minutes, weekdays=weekdays
    )
    last = scheduling.series_until(
        first=scheduling.rules.first_meeting(first_date, weekdays),
        frequency=frequency,
        weekdays=weekdays,
        until=until,
        count=count,
    )
    return scheduling.series_create(
        certification=certification,
        instructor=instructor,
        start=start,
        end=end,
        frequency=frequency,
        weekdays=weekdays,
        until=last,
        capacity=capacity,
        place=place,
        location=location,
        area=area,
        fee_minor=fee_minor,
        actor=actor,
        token=token,
        then=_holder(machines, actor),
    )


def class_series_change(
    *,
    series: ClassSeries,
    machines: Sequence[Machine],
    count: int | None = None,
    actor: User,
    **change: Any,
) -> scheduling.SeriesChanged:
    """`scheduling.series_change` (the same keywords), the series holding `machines` from now
    on: its new sessions hold them; the kept sessions keep what they held."""
    frequency, weekdays = change["frequency"], change["weekdays"]
    weekdays = weekdays if frequency == scheduling.Frequency.WEEKLY else ()
    change["until"] = scheduling.series_until(
        first=scheduling.rules.first_meeting(change["first_date"], weekdays),
        frequency=frequency,
        weekdays=weekdays,
        until=change["until"],
        count=count,
    )
    return scheduling.series_change(
        series=series, actor=actor, then=_holder(machines, actor), **change
    )


def class_series_extend_all(*, horizon: timedelta = scheduling.HORIZON) -> int:
    """Roll every series forward to now + horizon (the daily job), each new session holding
    its series' machines; returns how many sessions were made."""
    return scheduling.series_extend_all(horizon=horizon, then=_holder(None, None))
