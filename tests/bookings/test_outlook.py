"""What a member can book before they click, from the same rules the booking service applies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings import outlook, rules, selectors, services
from bookings.models import BookingState
from bookings.rules import Refusal
from core.time import add_duration
from equipment.selectors import machines_bookable
from membership.models import MembershipStatus
from tests.bookings.conftest import NOW, ZONE, at
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.membership import UserFactory, ready_member
from tests.factories.training import ClassSessionFactory, MemberCertificationFactory

pytestmark = pytest.mark.django_db


def test_a_certified_paid_up_member_may_book(laser, maker):
    assert outlook.member_outlook(member=maker, machine=laser).may_book


def test_missing_certification_names_the_next_class_and_links_enrolling(laser):
    member = ready_member()
    session = ClassSessionFactory(certification=laser.required_certification, start=at(5, 10))
    seen = outlook.member_outlook(member=member, machine=laser)
    assert seen.code == Refusal.NOT_CERTIFIED.value
    assert seen.why == "Needs the Laser cutter certification. Next class Sat 12 Jan 2030, 10:00."
    assert (seen.fix_label, seen.fix_url) == (
        "Enrol",
        reverse("training:session_detail", args=[session.pk]),
    )


def test_an_expired_certification_says_when_and_offers_a_refresher(laser):
    member = ready_member()
    MemberCertificationFactory(
        member=member,
        certification=laser.required_certification,
        expires_at=NOW - timedelta(days=3),
    )
    seen = outlook.member_outlook(member=member, machine=laser)
    assert seen.why.startswith("Your Laser cutter certification expired Fri 4 Jan 2030")
    assert seen.fix_label == "Ask for one"  # no class scheduled: ask for one


@pytest.mark.parametrize(
    ("break_it", "why", "label"),
    [
        ("lapsed", "Your membership is past due (paid through", "Pay"),
        ("waiver", "Sign the current safety waiver first.", "Sign it"),
        ("badge", "Pick up your badge at the front desk first.", ""),
    ],
)
def test_the_membership_condition_that_fails_is_named_with_its_fix(
    laser, maker, break_it, why, label
):
    if break_it == "lapsed":
        maker.membership.status = MembershipStatus.PAST_DUE
        maker.membership.current_period_end = NOW - timedelta(days=10)
        maker.membership.save()
    elif break_it == "waiver":
        maker.waiver_signatures.all().delete()
    else:
        maker.badges.all().delete()
    seen = outlook.member_outlook(member=maker, machine=laser)
    assert seen.code == Refusal.MEMBERSHIP_INACTIVE.value
    assert seen.why.startswith(why) and seen.fix_label == label


def test_lengths_stop_at_closing_time(laser, maker):
    """Open 09:00-21:00, at most 180 minutes: from 19:30 only 30, 60 and 90 minutes fit."""
    lengths = outlook.booking_lengths(member=maker, machine=laser, start=at(1, 19, 30))
    assert lengths.minutes == [30, 60, 90] and lengths.default == 30


def test_lengths_stop_at_the_next_booking(laser, maker):
    BookingFactory(machine=laser, start=at(1, 11), end=at(1, 12))
    lengths = outlook.booking_lengths(member=maker, machine=laser, start=at(1, 10))
    assert lengths.minutes == [30, 60]


def test_a_started_slot_defaults_to_a_length_with_real_time_left(laser, maker, frozen):
    """At 10:20 the 10:00 slot is still bookable, but 30 minutes would leave 10: default 60."""
    frozen.move_to(at(0, 10, 20))
    lengths = outlook.booking_lengths(member=maker, machine=laser, start=at(0, 10))
    assert lengths.minutes[0] == 30 and lengths.default == 60


def test_no_length_fits_says_which_rule_refuses(laser, maker):
    BookingFactory(machine=laser, start=at(1, 10), end=at(1, 11))
    lengths = outlook.booking_lengths(member=maker, machine=laser, start=at(1, 10))
    assert lengths.minutes == [] and lengths.refused.reason is Refusal.OVERLAP


def test_every_offered_length_books(laser, maker):
    """The lengths offered are exactly those the booking service accepts."""
    start = at(2, 18)
    offered = outlook.booking_lengths(member=maker, machine=laser, start=start).minutes
    accepted = []
    for minutes in range(laser.min_minutes, laser.max_minutes + 1, laser.slot_minutes):
        facts = selectors.booking_facts(
            member=maker,
            machine=laser,
            start=start,
            end=add_duration(start, timedelta(minutes=minutes)),
            now=NOW,
        )
        if rules.booking_refusal(facts, selectors.machine_rules(laser)) is None:
            accepted.append(minutes)
    assert offered == accepted == [30, 60, 90, 120, 150, 180]


def test_the_grid_marks_the_horizon_locked_slots_and_buffers(laser, maker):
    laser.buffer_minutes = 30
    laser.book_ahead_days = 3
    laser.save()
    BookingFactory(machine=laser, start=at(1, 10), end=at(1, 11), blocked_until=at(1, 11, 30))
    grid = selectors.week_grid(machine=laser, monday=NOW.date(), member=maker, now=NOW)
    status = {cell.start: cell for day in grid.days for cell in day.cells}
    assert status[at(1, 11)].status == "buffer"
    assert status[at(2, 20)].status == "free"  # Wednesday evening: inside three days
    ahead = status[at(3, 9)]
    assert (ahead.status, ahead.label) == ("ahead", "Opens 3 days ahead")
    locked = selectors.week_grid(
        machine=laser, monday=NOW.date(), member=maker, now=NOW, may_book=False
    )
    assert {c.status for d in locked.days for c in d.cells} >= {"locked", "ahead", "taken"}
    assert "free" not in {c.status for d in locked.days for c in d.cells}


def test_a_machine_open_around_the_clock_shows_all_48_half_hours(maker, frozen):
    machine = MachineFactory(required_certification=None)  # no opening hours: always open
    grid = selectors.week_grid(machine=machine, monday=NOW.date(), member=maker, now=NOW)
    assert len(grid.rows) == 48 and grid.rows[-1].label == "23:30"


def test_only_possible_actions_are_offered(laser, maker):
    user = maker.user
    now = at(0, 10)
    future = BookingFactory(machine=laser, member=maker, start=at(1, 10), end=at(1, 11))
    running = BookingFactory(
        machine=laser,
        member=maker,
        start=at(0, 9, 30),
        end=at(0, 10, 30),
        state=BookingState.CHECKED_IN,
    )
    ahead = outlook.booking_actions(future, user=user, now=now)
    assert (ahead.can_cancel, ahead.can_extend, ahead.can_finish) == (True, False, False)
    current = outlook.booking_actions(running, user=user, now=now)
    assert (current.can_cancel, current.can_extend, current.can_finish) == (False, True, True)
    assert current.extensions == [30, 60, 90, 120]  # to the 180-minute cap
    stranger = outlook.booking_actions(future, user=UserFactory(), now=now)
    assert not (stranger.can_cancel or stranger.can_finish or stranger.can_extend)


def test_im_done_ends_the_booking_now_and_frees_the_machine(laser, maker, frozen):
    booking = BookingFactory(
        machine=laser,
        member=maker,
        start=NOW - timedelta(minutes=30),
        end=NOW + timedelta(hours=1),
        state=BookingState.CHECKED_IN,
    )
    done = services.booking_finish(booking=booking, actor=maker.user)
    assert (done.state, done.end, done.released_at) == (BookingState.COMPLETED, NOW, NOW)
    # The rest of the hour is free again.
    assert not selectors.bookings_holding(laser, start=NOW, end=NOW + timedelta(hours=1)).exists()


def test_im_done_is_refused_before_the_start_and_for_others(laser, maker):
    booking = BookingFactory(machine=laser, member=maker, start=at(1, 10), end=at(1, 11))
    with pytest.raises(services.BookingRejected, match="running now can be ended"):
        services.booking_finish(booking=booking, actor=maker.user, now=NOW)
    with pytest.raises(services.BookingRejected, match="your own bookings"):
        services.booking_finish(booking=booking, actor=UserFactory(), now=at(1, 10, 15))


def test_the_zone_is_the_spaces(laser):
    assert str(ZONE) == "America/Los_Angeles"


def test_the_outlook_of_many_machines_costs_the_queries_of_one(maker, laser):
    """The area's day and the machine cards ask about every machine at once."""
    for n in range(4):
        certify(
            maker,
            MachineFactory(
                required_certification=certification(f"Tool {n}")
            ).required_certification,
        )
    machines = list(machines_bookable().exclude(pk=laser.pk))

    def queries_for(some) -> int:
        with CaptureQueriesContext(connection) as captured:
            seen = outlook.machines_outlook(member=maker, machines=some, now=NOW)
        assert all(o.may_book for o in seen.values())
        return len(captured)

    assert queries_for(machines) == queries_for(machines[:1])
