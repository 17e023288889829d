"""The dry run of a machine rule change, as a pure rule: which bookings to come it breaks."""

from __future__ import annotations

import os
import time as clock
from datetime import UTC, datetime, time, timedelta
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


def test_the_bookings_to_come_are_listed_in_time_order_and_done_ones_are_not():
    """Staff read the list in the order the bookings come, whatever order they are given in."""
    found = rule_change_consequences(
        before=RulesInForce(certification_id=1),
        after=RulesInForce(certification_id=2),
        bookings=[
            slot(1, local(2, 10), local(2, 11), certified_after=False),
            slot(2, local(1, 10), local(1, 11), certified_after=False),
            slot(3, local(0, 6), local(0, 7), certified_after=False, to_come=False),
            slot(4, local(1, 12), local(1, 13), certified_after=False),
        ],
        zone=ZONE,
    )
    assert found == [
        Consequence(2, (Breach.NOT_CERTIFIED,)),
        Consequence(4, (Breach.NOT_CERTIFIED,)),
        Consequence(1, (Breach.NOT_CERTIFIED,)),
    ]


TOKYO = ZoneInfo("Asia/Tokyo")  # 17 hours ahead of the server's zone (the test settings' LA)


def tokyo(day: int, hour: int, minute: int = 0) -> datetime:
    """Day 0 is Monday 7 January 2030, in Tokyo."""
    return datetime(2030, 1, 7 + day, hour, minute, tzinfo=TOKYO)


def test_hours_of_a_machine_in_another_zone_are_its_own_wall_clock():
    """New Tuesday 06:00-12:00 hours in Tokyo keep Tuesday 07:00 there (Monday afternoon on the
    server's clock) and cancel Tuesday 13:00."""
    after = RulesInForce(opening=[(TUESDAY, time(6), time(12))])
    found = rule_change_consequences(
        before=RulesInForce(),
        after=after,
        bookings=[slot(1, tokyo(1, 7), tokyo(1, 8)), slot(2, tokyo(1, 13), tokyo(1, 14))],
        zone=TOKYO,
    )
    assert found == [Consequence(2, (Breach.CLOSED,))]


def test_removed_hours_of_a_machine_in_another_zone_cancel_its_bookings_in_them():
    before = RulesInForce(opening=[(TUESDAY, time(6), time(12)), (2, time(6), time(12))])
    after = RulesInForce(opening=[(TUESDAY, time(6), time(12))])
    found = rule_change_consequences(
        before=before,
        after=after,
        bookings=[slot(1, tokyo(1, 7), tokyo(1, 8)), slot(2, tokyo(2, 7), tokyo(2, 8))],
        zone=TOKYO,
    )
    assert found == [Consequence(2, (Breach.CLOSED,))]


def test_a_daily_limit_counts_the_machines_local_day():
    """Tuesday 07:00 and 20:00 in Tokyo are one day there (two on the server's clock)."""
    found = rule_change_consequences(
        before=RulesInForce(daily_bookings_per_member=2),
        after=RulesInForce(daily_bookings_per_member=1),
        bookings=[slot(1, tokyo(1, 7), tokyo(1, 8)), slot(2, tokyo(1, 20), tokyo(1, 21))],
        zone=TOKYO,
    )
    assert found == [Consequence(1, (Breach.DAILY_QUOTA,)), Consequence(2, (Breach.DAILY_QUOTA,))]


@pytest.fixture
def server_in_kiritimati():
    """The server's own clock at UTC+14, 26 hours ahead of the machine's (UTC-12)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Pacific/Kiritimati"
    clock.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    clock.tzset()


def test_the_servers_own_zone_plays_no_part_in_the_opening_hours(server_in_kiritimati):
    """Tuesday 23:00 at UTC-12 is Thursday 01:00 on the server's clock: still Tuesday's hours."""
    zone = ZoneInfo("Etc/GMT+12")
    start = datetime(2030, 1, 8, 23, 0, tzinfo=zone)
    found = rule_change_consequences(
        before=RulesInForce(),
        after=RulesInForce(opening=[(TUESDAY, time(22), time(0))]),
        bookings=[slot(1, start, start + timedelta(minutes=30))],
        zone=zone,
    )
    assert found == []


def test_booked_time_counts_whole_minutes():
    """A booking ended early, 30 seconds past the minute, counts its whole minutes: with it a
    member is exactly at the new two hours, not over."""
    found = judged(
        RulesInForce(weekly_hours_per_member=6),
        RulesInForce(weekly_hours_per_member=2),
        slot(1, local(0, 6), local(0, 7).replace(second=30), to_come=False),
        slot(2, local(1, 10), local(1, 11)),
    )
    assert found == {}


def test_a_weekly_limit_reached_exactly_is_not_exceeded_and_one_minute_over_is():
    found = judged(
        RulesInForce(weekly_hours_per_member=6),
        RulesInForce(weekly_hours_per_member=2),
        slot(1, local(1, 10), local(1, 12)),  # exactly two hours
        slot(2, local(1, 10), local(1, 12, 1), member=2),  # a minute over
    )
    assert found == {2: (Breach.WEEKLY_QUOTA,)}


def test_a_weekly_limit_exceeded_by_a_minute_before_the_change_is_not_listed():
    """Two hours down to one: already a minute over two, not this change's doing; exactly at
    two hours before, it is."""
    found = judged(
        RulesInForce(weekly_hours_per_member=2),
        RulesInForce(weekly_hours_per_member=1),
        slot(1, local(1, 10), local(1, 12, 1)),
        slot(2, local(1, 10), local(1, 12), member=2),
    )
    assert found == {2: (Breach.WEEKLY_QUOTA,)}


def test_lifting_a_limit_breaks_nothing():
    """0 is no limit: a member with many hours and bookings is over nothing."""
    found = judged(
        RulesInForce(weekly_hours_per_member=6, daily_bookings_per_member=3),
        RulesInForce(),
        slot(1, local(1, 8), local(1, 12)),
        slot(2, local(1, 14), local(1, 16)),
    )
    assert found == {}


@pytest.mark.parametrize(
    ("buffer_before", "next_start", "listed"),
    [
        (0, local(1, 11), True),  # back to back
        (15, local(1, 11, 15), True),  # exactly at the old buffer: allowed then, not now
        (15, local(1, 11, 14), False),  # already inside the old buffer
        (0, local(1, 11, 29), True),
        (0, local(1, 11, 30), False),  # exactly at the new buffer: still allowed
    ],
)
def test_a_raised_buffer_lists_a_next_booking_from_the_old_buffer_up_to_the_new(
    buffer_before, next_start, listed
):
    found = judged(
        RulesInForce(buffer_minutes=buffer_before),
        RulesInForce(buffer_minutes=30),
        slot(1, local(1, 10), local(1, 11)),
        slot(2, next_start, local(1, 13), member=2),
    )
    assert found == ({1: (Breach.BUFFER,)} if listed else {})


def test_a_raised_buffer_is_judged_for_the_bookings_after_one_the_change_cancels():
    """Monday's hours go (its booking with them); Tuesday's 10-11 is followed at 11:15."""
    before = RulesInForce(opening=[(MONDAY, time(9), time(21)), (TUESDAY, time(9), time(21))])
    after = RulesInForce(opening=[(TUESDAY, time(9), time(21))], buffer_minutes=30)
    found = judged(
        before,
        after,
        slot(1, local(0, 10), local(0, 11)),
        slot(2, local(0, 11, 15), local(0, 12), member=2),
        slot(3, local(1, 10), local(1, 11)),
        slot(4, local(1, 11, 15), local(1, 12), member=2),
    )
    assert found == {1: (Breach.CLOSED,), 2: (Breach.CLOSED,), 3: (Breach.BUFFER,)}
