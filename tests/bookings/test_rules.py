"""The booking rules as tables: each row is a request and the rule that refuses it (or none)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings import rules
from bookings.rules import BookingFacts, MachineRules, Refusal

ZONE = ZoneInfo("America/Los_Angeles")
NOW = datetime(2030, 1, 7, 8, 0, tzinfo=ZONE)  # a Monday morning
T = datetime(2030, 1, 8, 10, 0, tzinfo=ZONE)  # Tuesday 10:00
H = timedelta(hours=1)
M = timedelta(minutes=1)

LASER = MachineRules(
    name="Laser cutter",
    slot_minutes=30,
    min_minutes=30,
    max_minutes=180,
    book_ahead_days=14,
    weekly_hours_per_member=6,
    daily_bookings_per_member=2,
    buffer_minutes=15,
    certification="Laser cutter",
)
OPEN_TUESDAY = [(T.replace(hour=9), T.replace(hour=21))]


def facts(start=T, end=T + H, **kwargs) -> BookingFacts:
    kwargs.setdefault("opening", OPEN_TUESDAY)
    kwargs.setdefault("now", NOW)
    return BookingFacts(start=start, end=end, zone=ZONE, **kwargs)


@pytest.mark.parametrize(
    ("request_facts", "machine", "expected"),
    [
        pytest.param(facts(), LASER, None, id="a plain hour inside opening hours"),
        pytest.param(facts(T, T), LASER, Refusal.ENDS_BEFORE_START, id="zero length"),
        pytest.param(facts(T, T - H), LASER, Refusal.ENDS_BEFORE_START, id="start after end"),
        pytest.param(facts(T, T + 15 * M), LASER, Refusal.TOO_SHORT, id="under the minimum"),
        pytest.param(facts(T, T + 4 * H), LASER, Refusal.TOO_LONG, id="over the maximum"),
        pytest.param(facts(T + 10 * M, T + H), LASER, Refusal.OFF_GRID, id="start off the grid"),
        pytest.param(facts(T, T + H + 5 * M), LASER, Refusal.OFF_GRID, id="end off the grid"),
        pytest.param(
            facts(T, T + H + 30 * M, opening=None),
            LASER,
            None,
            id="always open without opening hours",
        ),
        pytest.param(facts(NOW - H, NOW, opening=None), LASER, Refusal.IN_PAST, id="in the past"),
        pytest.param(
            facts(NOW - 30 * M, NOW + 30 * M, opening=None),
            LASER,
            Refusal.IN_PAST,
            id="a slot that has just ended",
        ),
        pytest.param(
            facts(NOW - 30 * M, NOW + 30 * M, now=NOW - 5 * M, opening=None),
            LASER,
            None,
            id="walk-up: the slot running now",
        ),
        pytest.param(
            facts(T + timedelta(days=14), T + timedelta(days=14) + H, opening=None),
            LASER,
            Refusal.TOO_FAR_AHEAD,
            id="beyond the booking horizon",
        ),
        pytest.param(
            facts(),
            MachineRules(name="Laser", state="out_of_service", state_reason="Lens cracked"),
            Refusal.OUT_OF_SERVICE,
            id="machine out of service",
        ),
        pytest.param(
            facts(), MachineRules(name="Laser", state="retired"), Refusal.RETIRED, id="retired"
        ),
        pytest.param(
            facts(may_use_machines=False),
            LASER,
            Refusal.MEMBERSHIP_INACTIVE,
            id="membership not in good standing",
        ),
        pytest.param(facts(certified=False), LASER, Refusal.NOT_CERTIFIED, id="not certified"),
        pytest.param(
            facts(certified=False),
            MachineRules(name="3D printer"),
            None,
            id="no certification required",
        ),
        pytest.param(
            facts(T.replace(hour=20), T.replace(hour=22)),
            LASER,
            Refusal.CLOSED,
            id="runs past closing time",
        ),
        pytest.param(
            facts(T.replace(hour=7), T.replace(hour=8)),
            LASER,
            Refusal.CLOSED,
            id="before opening",
        ),
        pytest.param(
            facts(blocks=[(T + 30 * M, T + 2 * H, "Maintenance: new lens")]),
            LASER,
            Refusal.BLOCKED,
            id="overlaps maintenance",
        ),
        pytest.param(
            facts(blocks=[(T - H, T + 30 * M, "Class: Laser cutter")]),
            LASER,
            Refusal.BLOCKED,
            id="overlaps a class session",
        ),
        pytest.param(
            facts(blocks=[(T + H, T + 2 * H, "Class: Laser cutter")]),
            LASER,
            None,
            id="a class right after is fine",
        ),
        pytest.param(
            facts(taken=[(T + 30 * M, T + 2 * H)]), LASER, Refusal.OVERLAP, id="overlaps a booking"
        ),
        pytest.param(
            facts(taken=[(T - H, T + 15 * M)]),
            LASER,
            Refusal.OVERLAP,
            id="inside the previous booking's buffer",
        ),
        pytest.param(
            facts(taken=[(T - H, T)]), LASER, None, id="right after a booking without buffer"
        ),
        pytest.param(
            facts(taken=[(T + H, T + 2 * H)]),
            LASER,
            Refusal.OVERLAP,
            id="own buffer runs into the next booking",
        ),
        pytest.param(
            facts(taken=[(T + H + 15 * M, T + 2 * H)]),
            LASER,
            None,
            id="next booking after own buffer",
        ),
        pytest.param(
            facts(member_week_minutes=5 * 60 + 30),
            LASER,
            Refusal.WEEKLY_QUOTA,
            id="over the weekly hours",
        ),
        pytest.param(facts(member_week_minutes=5 * 60), LASER, None, id="exactly the weekly hours"),
        pytest.param(
            facts(member_day_bookings=2), LASER, Refusal.DAILY_QUOTA, id="too many that day"
        ),
        pytest.param(
            facts(member_day_bookings=5, member_week_minutes=100 * 60),
            MachineRules(name="Printer", max_minutes=600),
            None,
            id="zero means no quota",
        ),
    ],
)
def test_booking_rules(request_facts, machine, expected):
    """Each request is refused by the rule named in the table, and only by it."""
    refused = rules.booking_refusal(request_facts, machine)
    assert (refused.reason if refused else None) == expected
    if refused:
        assert refused.message and "{" not in refused.message


def test_an_extension_is_not_refused_for_having_started():
    """Extending checks length, calendar, overlap and weekly hours, not "in the past"."""
    running = facts(NOW - H, NOW + H, opening=None, extending=True, member_day_bookings=9)
    assert rules.booking_refusal(running, LASER) is None


@pytest.mark.parametrize(
    ("is_owner", "is_staff", "state", "now", "expected"),
    [
        (True, False, "confirmed", T - H, None),
        (False, False, "confirmed", T - H, Refusal.NOT_YOURS),
        (False, True, "confirmed", T - H, None),
        (True, False, "confirmed", T + 10 * M, Refusal.ALREADY_STARTED),
        (False, True, "confirmed", T + 10 * M, None),
        (True, False, "checked_in", T + 10 * M, Refusal.NOT_ACTIVE),
        (False, True, "checked_in", T + 10 * M, None),
        (True, False, "cancelled", T - H, Refusal.NOT_ACTIVE),
        (False, True, "no_show", T + 30 * M, Refusal.NOT_ACTIVE),
        (False, True, "confirmed", T + 2 * H, Refusal.BOOKING_OVER),
    ],
)
def test_cancel_rules(is_owner, is_staff, state, now, expected):
    """Members cancel their own bookings up to the start; staff any active booking until its end."""
    refused = rules.cancel_refusal(
        is_owner=is_owner, is_staff=is_staff, state=state, start=T, end=T + H, now=now
    )
    assert (refused.reason if refused else None) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [(T - 3 * H, "cancelled"), (T - 2 * H, "cancelled"), (T - 119 * M, "late_cancelled")],
)
def test_a_cancellation_close_to_the_start_is_late(now, expected):
    """Cancelling less than the late-cancel window before the start is kept apart as late."""
    assert rules.cancelled_state(start=T, now=now, late_minutes=120) == expected


@pytest.mark.parametrize(
    ("state", "now", "expected"),
    [
        ("confirmed", T - 11 * M, Refusal.CHECK_IN_NOT_OPEN),
        ("confirmed", T - 10 * M, None),
        ("confirmed", T + 50 * M, None),
        ("confirmed", T + H, Refusal.BOOKING_OVER),
        ("checked_in", T, Refusal.NOT_ACTIVE),
        ("no_show", T + 20 * M, Refusal.NOT_ACTIVE),
        ("cancelled", T, Refusal.NOT_ACTIVE),
    ],
)
def test_check_in_rules(state, now, expected):
    """Check-in opens ten minutes before the start and closes at the end."""
    refused = rules.check_in_refusal(state=state, start=T, end=T + H, now=now, opens_minutes=10)
    assert (refused.reason if refused else None) == expected


@pytest.mark.parametrize(
    ("state", "now", "new_end", "expected"),
    [
        ("checked_in", T + 30 * M, T + 2 * H, None),
        ("checked_in", T - 5 * M, T + 2 * H, Refusal.NOT_RUNNING),
        ("checked_in", T + 30 * M, T + H, Refusal.NOT_LATER),
        ("completed", T + 30 * M, T + 2 * H, Refusal.NOT_ACTIVE),
    ],
)
def test_extend_rules(state, now, new_end, expected):
    """Only a running booking extends, and only to a later end."""
    refused = rules.extend_refusal(state=state, start=T, end=T + H, new_end=new_end, now=now)
    assert (refused.reason if refused else None) == expected


def test_every_refusal_has_a_sentence():
    """Every reason code comes with a sentence a member understands."""
    for reason in Refusal:
        assert reason.sentence.endswith(".") or reason.sentence.endswith("}")
        assert reason.value == reason.value.lower()
