"""One way to write each kind of time (docs/style-words.md), in the zone asked for."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

from core import formats

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
INSTANT = datetime(2026, 12, 5, 22, 0, 7, tzinfo=UTC)  # 14:00:07 in Los Angeles


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ t|day }}", "Sat 5 Dec 2026"),
        ("{{ t|clock }}", "14:00"),
        ("{{ t|moment }}", "Sat 5 Dec 2026, 14:00"),
        ("{{ t|moment_tz }}", "Sat 5 Dec 2026, 14:00 PST"),
        ("{{ t|stamp }}", "2026-12-05 14:00:07 PST"),
        ("{{ t|moment:'Europe/Berlin' }}", "Sat 5 Dec 2026, 23:00"),
        ("{{ t|day:berlin }}", "Sat 5 Dec 2026"),
        ("{{ opens|clock }}", "09:30"),
        ("{{ d|day }}", "Mon 21 Dec 2026"),
        ("{{ d|day_short }}", "Mon 21 Dec"),
        ("{{ none|moment }}", ""),
    ],
)
def test_filters(settings, template, expected):
    settings.TIME_ZONE = "America/Los_Angeles"
    context = Context(
        {
            "t": INSTANT,
            "berlin": BERLIN,
            "opens": time(9, 30),
            "d": date(2026, 12, 21),
            "none": None,
        }
    )
    assert Template(template).render(context) == expected


def test_paid_through_is_the_date_in_the_zone_not_utc():
    """23:30 on 21 Dec in Los Angeles is already the 22nd in UTC: the date is the 21st."""
    late = datetime(2026, 12, 22, 7, 30, tzinfo=UTC)
    assert formats.format_date(late, LA) == "Mon 21 Dec 2026"


def test_a_repeated_hour_names_its_zone():
    second = datetime(2027, 11, 7, 9, 30, tzinfo=UTC)  # the second 01:30, PST
    assert formats.format_time(second, LA) == "01:30 PST"


def test_a_span_within_a_day_and_across_midnight():
    start = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
    assert formats.format_span(start, start.replace(hour=23, minute=30), LA) == (
        "Sat 5 Dec 2026, 14:00\u201315:30"
    )
    assert formats.format_span(start, datetime(2026, 12, 6, 9, tzinfo=UTC), LA) == (
        "Sat 5 Dec 2026, 14:00 \u2013 Sun 6 Dec 2026, 01:00"
    )


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ t|day }}", "2026년 12월 5일 (토)"),
        ("{{ t|clock }}", "14:00"),
        ("{{ t|moment }}", "2026년 12월 5일 (토) 14:00"),
        ("{{ t|moment_tz }}", "2026년 12월 5일 (토) 14:00 PST"),
        ("{{ t|stamp }}", "2026-12-05 14:00:07 PST"),
        ("{% span t end %}", "2026년 12월 5일 (토) 14:00\u201315:30"),
        ("{{ d|day }}", "2026년 12월 21일 (월)"),
        ("{{ d|day_short }}", "12월 21일 (월)"),
    ],
)
def test_filters_write_korean_when_korean_is_active(settings, template, expected):
    """The same filters follow the active language (docs/i18n.md)."""
    settings.TIME_ZONE = "America/Los_Angeles"
    context = Context(
        {"t": INSTANT, "end": INSTANT.replace(hour=23, minute=30), "d": date(2026, 12, 21)}
    )
    with translation.override("ko"):
        assert Template(template).render(context) == expected
