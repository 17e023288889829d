"""One way to write each kind of time, for every page and email (docs/style-words.md).

A date "Sat 5 Dec 2026", a time "14:00" (24-hour), a moment "Sat 5 Dec 2026, 14:00", an audit
timestamp "2026-12-05 14:00:07 PST" (with seconds and the zone). Each takes the zone to show the
instant in: the space's zone by default, a location's when it has its own. In the hour the clocks
repeat a time names the zone ("01:30 PST"), where the time alone names two instants.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from django.utils import timezone

from core.time import is_repeated

DATE = "%a %-d %b %Y"
TIME = "%H:%M"


def _local(instant: datetime, zone: tzinfo | None) -> datetime:
    # An instant already put in a location's zone (locations' `|local:machine`, which marks it
    # `convert_to_local_time = False` like Django's own `timezone` filter) keeps that zone.
    if zone is None and getattr(instant, "convert_to_local_time", True) is False:
        return instant
    return timezone.localtime(instant, zone or timezone.get_current_timezone())


def format_date(value: date | datetime, zone: tzinfo | None = None) -> str:
    """A calendar date: a datetime is read in `zone` first (a "paid through" moment is a day)."""
    if isinstance(value, datetime):
        value = _local(value, zone).date()
    return value.strftime(DATE)


def format_time(instant: datetime, zone: tzinfo | None = None, *, with_zone: bool = False) -> str:
    local = _local(instant, zone)
    text = local.strftime(TIME)
    return f"{text} {local.tzname()}" if with_zone or is_repeated(local) else text


def format_moment(instant: datetime, zone: tzinfo | None = None, *, with_zone: bool = False) -> str:
    local = _local(instant, zone)
    return f"{local.strftime(DATE)}, {format_time(local, zone, with_zone=with_zone)}"


def format_stamp(instant: datetime, zone: tzinfo | None = None) -> str:
    """An audit timestamp: sortable, to the second, always with the zone."""
    local = _local(instant, zone)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def format_span(start: datetime, end: datetime, zone: tzinfo | None = None) -> str:
    """ "Sat 5 Dec 2026, 14:00-15:30" (the end's date too when it is another day)."""
    local_start, local_end = _local(start, zone), _local(end, zone)
    if local_start.date() == local_end.date():
        return f"{format_moment(start, zone)}\u2013{format_time(end, zone)}"
    return f"{format_moment(start, zone)} \u2013 {format_moment(end, zone)}"
