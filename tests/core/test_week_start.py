"""Weeks run Monday to Sunday, for every page and rule that speaks of a week."""

from __future__ import annotations

from datetime import date

import pytest

from core.time import week_start


@pytest.mark.parametrize(
    ("day", "monday"),
    [
        (date(2026, 3, 2), date(2026, 3, 2)),  # a Monday is its own week's start
        (date(2026, 3, 8), date(2026, 3, 2)),  # Sunday ends the week begun the Monday before
        (date(2026, 3, 4), date(2026, 3, 2)),
        (date(2027, 1, 1), date(2026, 12, 28)),  # across a new year
    ],
)
def test_week_start_is_the_monday_of_the_week(day, monday):
    assert week_start(day) == monday
