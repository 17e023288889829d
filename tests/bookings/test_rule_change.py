"""The dry run of a machine rule change, as a pure rule: which bookings to come it breaks."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bookings.rules import (
    BookedSlot,
    Breach,
    Consequence,
    RulesInForce,
    consequences_digest,
    rule_change_consequences,
)

ZONE = ZoneInfo("America/Los_Angeles")
MONDAY, TUESDAY, SUNDAY = 0, 1, 6


def local(day: int, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    """Day 0 is Monday 7 January 2030, in Los Angeles."""
    return datetime(2030, 1, 7 + day, hour, minute, tzinfo=ZONE, fold=fold)


def slot(booking_id: int, start: datetime, end: datetime, member: int = 1, **kwargs) -> BookedSlot:
    return BookedSlot(booking_id, member, start, end, **kwargs)


def judged(before: RulesInForce, after: RulesInForce, *slots: BookedSlot) -> dict[int, tuple]:
    found = rule_change_consequences(before=before, after=after, bookings=slots, zone=ZONE)
    return {c.booking_id: c.breaches for c in found}


def test_a_new_certification_cancels_the_bookings_of_members_without_it():
    """Members who will not hold the new certification at their booking's start lose it."""
    found = rule_change_consequences(
        before=RulesInForce(certification_id=1),
        after=RulesInForce(certification_id=2),
        bookings=[
            slot(1, local(1, 10), local(1, 11), certified_after=False),
            slot(2, local(1, 12), local(1, 13), member=2),
        ],
        zone=ZONE,
    )
    assert found == [Consequence(1, (Breach.NOT_CERTIFIED,))]
    assert found[0].cancels


@pytest.mark.parametrize("certification_id", [1, None])
def test_the_same_or_no_certification_breaks_nothing(certification_id):
    """Keeping the certification, or dropping it, leaves every booking usable."""
    before, after = (
        RulesInForce(certification_id=1),
        RulesInForce(certification_id=certification_id),
    )
    assert judged(before, after, slot(1, local(1, 10), local(1, 11), certified_after=False)) == {}


def test_removed_hours_cancel_the_bookings_in_them_and_one_straddling_the_new_closing_time():
    """Monday 10-13 and 13-22 (joined); 13-22 removed: 13:00 is the new closing time."""
    before = RulesInForce(opening=[(MONDAY, time(10), time(13)), (MONDAY, time(13), time(22))])
    after = RulesInForce(opening=[(MONDAY, time(10), time(13))])
    found = judged(
        before,
        after,
        slot(1, local(0, 11), local(0, 13)),  # ends at the new closing time: still inside
        slot(2, local(0, 12), local(0, 14)),  # straddles it
        slot(3, local(0, 15), local(0, 16)),
        slot(4, local(7, 12, 30), local(7, 13, 30)),  # next Monday too
    )
    assert found == {2: (Breach.CLOSED,), 3: (Breach.CLOSED,), 4: (Breach.CLOSED,)}


def test_a_booking_already_outside_the_old_hours_is_not_this_changes_doing():
    """Hours removed earlier kept their bookings; a later change does not cancel them."""
    before = RulesInForce(opening=[(MONDAY, time(10), time(13)), (TUESDAY, time(10), time(13))])
    after = RulesInForce(opening=[(MONDAY, time(10), time(13))])
    assert judged(before, after, slot(1, local(0, 18), local(0, 19))) == {}


def test_the_first_opening_hours_close_the_machine_at_all_other_times():
    """A machine without hours is open at any time; its first hours close the rest."""
    after = RulesInForce(opening=[(MONDAY, time(10), time(0))])  # 00:00 closes at midnight
    found = judged(
        RulesInForce(),
        after,
        slot(1, local(0, 22), local(1, 0)),
        slot(2, local(1, 10), local(1, 11)),
    )
    assert found == {2: (Breach.CLOSED,)}


def dst(hour: int, minute: int = 0) -> datetime:
    """Sunday 14 March 2027 in Los Angeles: the clocks jump from 02:00 PST to 03:00 PDT."""
    return datetime(2027, 3, 14, hour, minute, tzinfo=ZONE)


@pytest.mark.parametrize("opens", [time(3), time(2, 30)])
def test_hours_follow_the_wall_clock_on_the_spring_forward_day(opens):
    """New Sunday hours from 03:00 (or from 02:30, a time that does not exist that night, so
    from the jump) open at 03:00 PDT, 10:00 UTC; with the winter offset it would be 11:00."""
    after = RulesInForce(opening=[(SUNDAY, opens, time(10))])
    assert dst(3).astimezone(UTC).hour == 10
    found = judged(
        RulesInForce(),
        after,
        # 01:30 PST to 03:30 PDT: one real hour, starting before the opening.
        slot(1, dst(1, 30), datetime(2027, 3, 14, 10, 30, tzinfo=UTC)),
        slot(2, dst(3), dst(4)),
        slot(3, dst(9), dst(10, 30)),  # past the closing time
    )
    assert found == {1: (Breach.CLOSED,), 3: (Breach.CLOSED,)}


def test_a_lowered_weekly_limit_keeps_and_lists_the_members_bookings_over_it():
    """Six hours a week down to two: a member with three booked hours (one already done) is
    over it; their bookings to come are listed, kept; another member under it is not."""
    before, after = RulesInForce(weekly_hours_per_member=6), RulesInForce(weekly_hours_per_member=2)
    found = rule_change_consequences(
        before=before,
        after=after,
        bookings=[
            slot(1, local(0, 6), local(0, 7), to_come=False, holds_machine=False),
            slot(2, local(1, 10), local(1, 12)),
            slot(3, local(2, 10), local(2, 12), member=2),
            slot(4, local(7, 10), local(7, 11)),  # next week starts afresh
        ],
        zone=ZONE,
    )
    assert found == [Consequence(2, (Breach.WEEKLY_QUOTA,))]
    assert not found[0].cancels


def test_a_limit_already_exceeded_before_the_change_is_not_listed():
    before, after = RulesInForce(weekly_hours_per_member=2), RulesInForce(weekly_hours_per_member=1)
    assert judged(before, after, slot(1, local(1, 10), local(1, 13))) == {}


def test_a_lowered_daily_limit_lists_both_bookings_of_that_day():
    before = RulesInForce(daily_bookings_per_member=2)
    after = RulesInForce(daily_bookings_per_member=1)
    found = judged(
        before,
        after,
        slot(1, local(1, 10), local(1, 11)),
        slot(2, local(1, 14), local(1, 15)),
        slot(3, local(2, 14), local(2, 15)),
    )
    assert found == {1: (Breach.DAILY_QUOTA,), 2: (Breach.DAILY_QUOTA,)}


def test_a_raised_buffer_lists_the_booking_it_runs_from_into_the_next():
    """No buffer to 30 minutes: 10-11 is followed at 11:15 (listed), 11:15-12 at 13:00 (not)."""
    after = RulesInForce(buffer_minutes=30)
    found = judged(
        RulesInForce(),
        after,
        slot(1, local(1, 10), local(1, 11)),
        slot(2, local(1, 11, 15), local(1, 12), member=2),
        slot(3, local(1, 13), local(1, 14), member=3),
    )
    assert found == {1: (Breach.BUFFER,)}


def test_limits_are_judged_without_the_bookings_the_change_cancels():
    """The Tuesday booking goes with the Tuesday hours; what is left is within two hours."""
    before = RulesInForce(
        opening=[(MONDAY, time(9), time(21)), (TUESDAY, time(9), time(21))],
        weekly_hours_per_member=6,
    )
    after = RulesInForce(opening=[(MONDAY, time(9), time(21))], weekly_hours_per_member=2)
    found = judged(
        before, after, slot(1, local(0, 10), local(0, 12)), slot(2, local(1, 10), local(1, 12))
    )
    assert found == {2: (Breach.CLOSED,)}


def test_the_digest_names_the_set_and_not_its_order():
    one, two = Consequence(1, (Breach.CLOSED,)), Consequence(2, (Breach.BUFFER,))
    assert consequences_digest([one, two]) == consequences_digest([two, one])
    assert consequences_digest([one]) != consequences_digest([one, two])
    assert consequences_digest([one]) != consequences_digest([Consequence(1, (Breach.BUFFER,))])
