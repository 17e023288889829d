"""Booking rules staff set must be bookable; opening hours must not overlap."""

from __future__ import annotations

from datetime import time

import pytest
from django.utils import translation

from equipment import rules

WORKABLE = dict(
    slot_minutes=30,
    min_minutes=30,
    max_minutes=180,
    book_ahead_days=14,
    weekly_hours_per_member=6,
    buffer_minutes=15,
)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({}, None, None),
        ({"weekly_hours_per_member": 0}, None, None),
        ({"min_minutes": 240}, "max_minutes", "shorter than the shortest"),
        ({"min_minutes": 45}, "min_minutes", "whole number of 30-minute slots"),
        ({"max_minutes": 100}, "max_minutes", "whole number of 30-minute slots"),
        ({"min_minutes": 0}, "min_minutes", "whole number"),
        ({"max_minutes": 8 * 24 * 60}, "max_minutes", "at most 7 days"),
        ({"book_ahead_days": 0}, "book_ahead_days", "between 1 and 365"),
        ({"weekly_hours_per_member": 1, "min_minutes": 120}, "weekly_hours_per_member", "nobody"),
        ({"buffer_minutes": 25 * 60}, "buffer_minutes", "at most one day"),
    ],
)
def test_booking_rules_problems(change, field, words):
    problems = rules.booking_rules_problems(**{**WORKABLE, **change})
    if field is None:
        assert problems == {}
    else:
        assert list(problems) == [field]
        assert words in problems[field]


MONDAY_10_TO_14 = [(0, time(10), time(14))]


@pytest.mark.parametrize(
    ("weekdays", "opens", "closes", "problem"),
    [
        ([0], time(14), time(18), None),  # touching is fine: the calendar joins them
        ([1], time(12), time(16), None),  # another day
        ([0, 1], time(13), time(16), "Monday is already open 10:00 to 14:00"),
        ([0], time(9), time(10, 30), "overlaps"),
        ([0], time(18), time(0), None),  # until midnight
        ([2], time(18), time(17), "Closing time must be after opening time"),
        ([], time(9), time(10), "Choose at least one weekday"),
        ([7], time(9), time(10), "Choose at least one weekday"),
    ],
)
def test_opening_hours_problem(weekdays, opens, closes, problem):
    found = rules.opening_hours_problem(
        existing=MONDAY_10_TO_14, weekdays=weekdays, opens=opens, closes=closes
    )
    assert found == problem if problem is None else problem in found


def test_an_opening_hours_problem_reads_in_korean():
    """The weekday and the times sit where Korean puts them, the weekday itself translated."""
    with translation.override("ko"):
        found = rules.opening_hours_problem(
            existing=MONDAY_10_TO_14, weekdays=[0], opens=time(9), closes=time(11)
        )
    assert found == (
        "월요일에 이미 10:00~14:00 운영 시간이 있어 겹칩니다. 먼저 그 시간을 지우거나 바꿔 주세요."
    )
