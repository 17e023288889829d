"""A location's opening hours: weekly events on its django-scheduler calendar, as machines keep
theirs (equipment.services.opening_hours_add), in the location's own zone.

A location's hours are what its page shows members ("Mon-Fri 10:00-22:00"); each machine's own
opening hours still decide its bookings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils.translation import gettext as _
from schedule.models import Calendar, Event, Rule

from core.time import add_duration, wall_time_exists
from locations.errors import LocationError
from locations.models import Location, LocationEvent

WEEKDAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def weekly_rule(weekdays: Iterable[int]) -> Rule:
    """The django-scheduler rule "on these weekdays" (DAILY narrowed by weekday: a WEEKLY rule
    would be pinned to the first event's weekday)."""
    codes = ",".join(WEEKDAY_CODES[day] for day in sorted(set(weekdays)))
    rule: Rule
    rule, _ = Rule.objects.get_or_create(
        frequency="DAILY",
        params=f"byweekday:{codes}",
        defaults={"name": f"Every {codes}"[:32], "description": f"Every {codes}"},
    )
    return rule


def rule_weekdays(event: Event) -> list[int]:
    """The weekdays (0 = Monday) a weekly event recurs on."""
    if event.rule is None:
        return []
    _, _, codes = event.rule.params.partition("byweekday:")
    return [WEEKDAY_CODES.index(code) for code in codes.split(",") if code in WEEKDAY_CODES]


def _calendar(location: Location) -> Calendar:
    if location.calendar is not None:
        return location.calendar
    calendar: Calendar
    calendar, _ = Calendar.objects.get_or_create(
        slug=f"location-{location.slug}", defaults={"name": f"Location: {location.name}"}
    )
    Location.objects.filter(pk=location.pk).update(calendar=calendar)
    location.calendar = calendar
    return calendar


def location_hours_add(
    *, location: Location, weekdays: list[int], opens: time, closes: time, starting: date
) -> LocationEvent:
    """Open `location` on `weekdays` from `opens` to `closes` (00:00: midnight), its own clock."""
    if not weekdays:
        raise LocationError(_("Choose at least one weekday."))
    if closes != time.min and closes <= opens:
        raise LocationError(_("Closing time must be after opening time (use 00:00 for midnight)."))
    zone = location.zone
    if not wall_time_exists(starting, opens, zone):
        starting += timedelta(days=1)
    start = datetime.combine(starting, opens, tzinfo=zone)
    minutes = (closes.hour * 60 + closes.minute or 24 * 60) - (opens.hour * 60 + opens.minute)
    with transaction.atomic():
        event = Event.objects.create(
            calendar=_calendar(location),
            title=f"{location.name} open",
            start=start,
            end=add_duration(start, timedelta(minutes=minutes)),
            rule=weekly_rule(weekdays),
        )
        return LocationEvent.objects.create(
            location=location, event=event, kind=LocationEvent.Kind.OPENING
        )


@dataclass(frozen=True)
class DayHours:
    name: str
    spans: list[tuple[time, str]]  # opens, and the closing time as people write it (24:00)


def location_week(location: Location) -> list[DayHours]:
    """Each weekday with its opening hours on the location's clock (none: closed)."""
    by_day: dict[int, list[tuple[time, str]]] = {day: [] for day in range(7)}
    zone = location.zone
    for entry in location.events.filter(kind=LocationEvent.Kind.OPENING).select_related(
        "event__rule"
    ):
        local_start = entry.event.start.astimezone(zone)
        closes = (local_start.replace(tzinfo=None) + (entry.event.end - entry.event.start)).time()
        label = "24:00" if closes == time.min else f"{closes:%H:%M}"
        for day in rule_weekdays(entry.event):
            by_day[day].append((local_start.time(), label))
    return [DayHours(WEEKDAY_NAMES[day], sorted(by_day[day])) for day in range(7)]
