"""Metering's pure rules: grants, rounding, minimum, included hours, local months (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from metering import rules
from metering.rules import Grant, Rate

LASER = Rate(per_minute_minor=50, step_minutes=15, minimum_minor=500)
HOUR = 3600


@pytest.mark.parametrize(
    ("reason", "booked", "grant"),
    [
        ("allowed_booking", True, Grant.BOOKING),
        ("allowed_booking", False, Grant.BOOKING),  # started in the check-in minutes before it
        ("offline_allowlist", True, Grant.BOOKING),
        ("offline_allowlist", False, Grant.MAINTAINER),
        ("allowed_instructor", True, Grant.INSTRUCTOR),
        ("allowed_instructor", False, Grant.INSTRUCTOR),
        ("allowed_maintainer", True, Grant.MAINTAINER),
        ("allowed_maintainer", False, Grant.MAINTAINER),
        ("", True, Grant.BOOKING),  # recorded before grant reasons were kept
        ("", False, Grant.MAINTAINER),
    ],
)
def test_a_session_is_booked_time_unless_staff_switched_it_on(reason, booked, grant):
    assert rules.session_grant(reason=reason, booked=booked) is grant


@pytest.mark.parametrize(
    ("grant", "instructors", "maintainers", "charged"),
    [
        (Grant.BOOKING, False, False, True),
        (Grant.INSTRUCTOR, False, True, False),
        (Grant.INSTRUCTOR, True, False, True),
        (Grant.MAINTAINER, True, False, False),
        (Grant.MAINTAINER, False, True, True),
    ],
)
def test_staff_time_is_charged_only_when_the_rate_says_so(grant, instructors, maintainers, charged):
    rate = Rate(per_minute_minor=50, charge_instructors=instructors, charge_maintainers=maintainers)
    assert rate.charges(grant) is charged


@pytest.mark.parametrize(
    ("seconds", "step", "minutes"),
    [
        (0, 15, 0),
        (1, 15, 15),
        (15 * 60, 15, 15),
        (15 * 60 + 1, 15, 30),
        (61, 1, 2),
        (60, 1, 1),
        (4 * HOUR, 15, 240),
    ],
)
def test_charged_time_is_rounded_up_to_a_whole_step(seconds, step, minutes):
    assert rules.charged_minutes(seconds, step_minutes=step) == minutes


def test_a_charged_session_costs_at_least_the_minimum_and_none_costs_nothing():
    assert rules.minutes_price(15, LASER) == 750
    assert rules.minutes_price(5, LASER) == 500  # 250 is below the $5 minimum
    assert rules.minutes_price(1, LASER) == 500
    assert rules.minutes_price(0, LASER) == 0
    assert rules.minutes_price(1, Rate(per_minute_minor=50)) == 50


def test_included_hours_are_used_first_then_the_rest_is_rounded_and_priced():
    charges = rules.month_charges(
        [(6 * HOUR, Grant.BOOKING), (6 * HOUR + 60, Grant.BOOKING), (2 * HOUR, Grant.BOOKING)],
        rate=LASER,
        included_seconds=10 * HOUR,
    )
    assert [
        (c.seconds, c.included_seconds, c.charged_minutes, c.amount_minor) for c in charges
    ] == [
        (6 * HOUR, 6 * HOUR, 0, 0),
        (6 * HOUR + 60, 4 * HOUR, 135, 6750),  # 2 h 01 min left over, rounded up to 2 h 15 min
        (2 * HOUR, 0, 120, 6000),
    ]


def test_included_hours_already_used_by_earlier_charges_are_not_given_again():
    (charge,) = rules.month_charges(
        [(2 * HOUR, Grant.BOOKING)], rate=LASER, included_seconds=10 * HOUR, used=9 * HOUR
    )
    assert (charge.included_seconds, charge.charged_minutes) == (HOUR, 60)


def test_staff_time_not_charged_uses_no_included_hours():
    charges = rules.month_charges(
        [(3 * HOUR, Grant.INSTRUCTOR), (3 * HOUR, Grant.BOOKING)],
        rate=LASER,
        included_seconds=3 * HOUR,
    )
    assert charges == [
        rules.PartCharge(3 * HOUR, 0, 0, 0, charged=False),
        rules.PartCharge(3 * HOUR, 3 * HOUR, 0, 0, charged=True),
    ]


def test_a_fully_included_session_costs_nothing_not_the_minimum():
    (charge,) = rules.month_charges([(600, Grant.BOOKING)], rate=LASER, included_seconds=HOUR)
    assert (charge.charged_minutes, charge.amount_minor) == (0, 0)


def test_zero_decimal_amounts_are_whole_won():
    won = Rate(per_minute_minor=200, step_minutes=10, minimum_minor=3000)
    (charge,) = rules.month_charges([(25 * 60, Grant.BOOKING)], rate=won, included_seconds=0)
    assert (charge.charged_minutes, charge.amount_minor) == (30, 6000)  # ₩6,000, not ₩60


SEOUL = ZoneInfo("Asia/Seoul")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def test_a_session_is_split_at_the_local_month_boundary_not_utc():
    # 23:00 on 31 October to 02:00 on 1 November in Seoul is all October in UTC.
    start = datetime(2026, 10, 31, 14, tzinfo=UTC)
    parts = rules.month_parts(start, start + timedelta(hours=3), SEOUL)
    assert [(p.month, p.seconds) for p in parts] == [
        (date(2026, 10, 1), HOUR),
        (date(2026, 11, 1), 2 * HOUR),
    ]
    assert parts[1].start == datetime(2026, 11, 1, tzinfo=SEOUL)


def test_a_session_inside_one_month_is_one_part():
    start = datetime(2026, 10, 12, 18, tzinfo=UTC)
    assert [
        (p.month, p.seconds)
        for p in rules.month_parts(start, start + 2 * timedelta(hours=1), SEOUL)
    ] == [(date(2026, 10, 1), 2 * HOUR)]


def test_a_session_across_a_dst_change_counts_the_hours_that_really_passed():
    # Clocks go back at 02:00 on 1 November 2026 in Los Angeles: 23:30 to 02:30 local is 4 h.
    start = datetime(2026, 10, 31, 23, 30, tzinfo=LOS_ANGELES)
    end = datetime(2026, 11, 1, 2, 30, tzinfo=LOS_ANGELES)
    parts = rules.month_parts(start, end, LOS_ANGELES)
    assert [(p.month, p.seconds) for p in parts] == [
        (date(2026, 10, 1), 30 * 60),
        (date(2026, 11, 1), 3 * HOUR + 30 * 60),
    ]


def test_a_month_ends_at_local_midnight_and_december_rolls_into_january():
    assert rules.next_month_begins(date(2026, 12, 1), SEOUL) == datetime(2027, 1, 1, tzinfo=SEOUL)
    assert rules.next_month_begins(date(2026, 10, 1), LOS_ANGELES).utcoffset() == timedelta(
        hours=-7
    )


def test_a_session_of_no_time_has_no_parts():
    start = datetime(2026, 10, 12, 18, tzinfo=UTC)
    assert rules.month_parts(start, start, SEOUL) == []
