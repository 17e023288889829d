"""The template side of `core.formats`: {% load when %} then `|day`, `|clock`, `|moment`,
`|moment_tz`, `|stamp`, `|day_short` and `{% span start end %}`. A zone may follow: `|moment:zone`."""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo
from zoneinfo import ZoneInfo

from django import template

from core import formats

register = template.Library()


def _zone(zone: tzinfo | str | None) -> tzinfo | None:
    if isinstance(zone, str):
        return ZoneInfo(zone) if zone else None
    return zone


@register.filter
def day(value: date | datetime | None, zone: tzinfo | str | None = None) -> str:
    return formats.format_date(value, _zone(zone)) if value else ""


@register.filter
def day_short(value: date | datetime | None, zone: tzinfo | str | None = None) -> str:
    """A date without its year ("Sat 5 Dec", "12월 5일 (토)"): a week grid's columns."""
    return formats.format_date(value, _zone(zone), short=True) if value else ""


@register.filter
def clock(value: datetime | time | None, zone: tzinfo | str | None = None) -> str:
    """An instant's wall-clock time in the zone; a plain time of day (opening hours) as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, time):
        return formats.format_clock(value)
    return formats.format_time(value, _zone(zone))


@register.filter
def moment(value: datetime | None, zone: tzinfo | str | None = None) -> str:
    return formats.format_moment(value, _zone(zone)) if value else ""


@register.filter
def moment_tz(value: datetime | None, zone: tzinfo | str | None = None) -> str:
    """A moment with its zone's name, where people in another zone read it (emails, feeds)."""
    return formats.format_moment(value, _zone(zone), with_zone=True) if value else ""


@register.filter
def stamp(value: datetime | None, zone: tzinfo | str | None = None) -> str:
    return formats.format_stamp(value, _zone(zone)) if value else ""


@register.simple_tag
def span(start: datetime, end: datetime, zone: tzinfo | str | None = None) -> str:
    return formats.format_span(start, end, _zone(zone))
