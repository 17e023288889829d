"""One way to write each kind of time, for every page and email (docs/style-words.md), in the
active language (docs/i18n.md).

A date "Sat 5 Dec 2026" (Korean "2026년 12월 5일 (토)"), a time "14:00" (24-hour), a moment
"Sat 5 Dec 2026, 14:00" ("2026년 12월 5일 (토) 14:00"), an audit timestamp
"2026-12-05 14:00:07 PST" (with seconds and the zone, the same in every language). Each takes the
zone to show the instant in: the space's zone by default, a location's when it has its own. In the
hour the clocks repeat a time names the zone ("01:30 PST"), where the time alone names two instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from django.utils import dateformat, timezone
from django.utils.translation import get_language

from core.time import is_repeated


@dataclass(frozen=True)
class Written:
    """How one language writes a date and a moment (a date and a time joined)."""

    date: str  # fills in {weekday}, {day}, {month} (a number), {month_name} and {year}
    moment: str  # fills in {date} and {time}
    # A date without its year, where the year is plain from around it (a week grid's columns).
    short: str = "{weekday} {day} {month_name}"
    # Monday first. Empty: Django's translated abbreviations ("Sat"); Korean's own are one
    # syllable where Django's are whole words (토 rather than 토요일).
    weekdays: tuple[str, ...] = ()


# Adding a language: a row here (docs/i18n.md). A language without one writes English's.
WRITTEN = {
    "en": Written(date="{weekday} {day} {month_name} {year}", moment="{date}, {time}"),
    "ko": Written(
        date="{year}년 {month}월 {day}일 ({weekday})",
        moment="{date} {time}",
        short="{month}월 {day}일 ({weekday})",
        weekdays=("월", "화", "수", "목", "금", "토", "일"),
    ),
}
TIME = "H:i"


def _written() -> Written:
    language = (get_language() or "en").split("-")[0]
    return WRITTEN.get(language, WRITTEN["en"])


def _local(instant: datetime, zone: tzinfo | None) -> datetime:
    # An instant already put in a location's zone (locations' `|local:machine`, which marks it
    # `convert_to_local_time = False` like Django's own `timezone` filter) keeps that zone.
    if zone is None and getattr(instant, "convert_to_local_time", True) is False:
        return instant
    return timezone.localtime(instant, zone or timezone.get_current_timezone())


def format_date(value: date | datetime, zone: tzinfo | None = None, *, short: bool = False) -> str:
    """A calendar date: a datetime is read in `zone` first (a "paid through" moment is a day).
    `short` leaves the year out: "Sat 5 Dec", "12월 5일 (토)"."""
    if isinstance(value, datetime):
        value = _local(value, zone).date()
    written = _written()
    return (written.short if short else written.date).format(
        weekday=(
            written.weekdays[value.weekday()] if written.weekdays else dateformat.format(value, "D")
        ),
        day=value.day,
        month=value.month,
        month_name=dateformat.format(value, "M"),
        year=value.year,
    )


def format_clock(value: time) -> str:
    """A time of day as it is, with no zone (opening hours)."""
    return dateformat.time_format(value, TIME)


def format_time(instant: datetime, zone: tzinfo | None = None, *, with_zone: bool = False) -> str:
    local = _local(instant, zone)
    text = dateformat.time_format(local, TIME)
    return f"{text} {local.tzname()}" if with_zone or is_repeated(local) else text


def format_moment(instant: datetime, zone: tzinfo | None = None, *, with_zone: bool = False) -> str:
    local = _local(instant, zone)
    return _written().moment.format(
        date=format_date(local.date()), time=format_time(local, zone, with_zone=with_zone)
    )


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
