"""A day pass holder books the machines their pass names, inside the pass's local day only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from bookings.errors import BookingRejected
from bookings.outlook import member_outlook
from bookings.rules import Refusal
from bookings.services import booking_create
from equipment.models import DayPass, DayPassState
from membership.models import MembershipStatus
from membership.readiness import member_readiness
from tests.factories.daypasses import DayPassFactory, DayPassProductFactory
from tests.factories.equipment import MachineFactory
from tests.factories.locations import LocationFactory
from tests.factories.membership import (
    BadgeFactory,
    MemberFactory,
    MembershipFactory,
    PlanFactory,
    WaiverFactory,
    WaiverSignatureFactory,
)

# 08:00 on 10 December in Los Angeles.
NOW = datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def scene(db):
    la = LocationFactory(name="Los Angeles", slug="la", time_zone="America/Los_Angeles")
    laser = MachineFactory(name="Laser LA", slug="laser-la", location=la)
    lathe = MachineFactory(name="Lathe LA", slug="lathe-la", location=la)
    holder = MemberFactory()
    WaiverSignatureFactory(member=holder, waiver=WaiverFactory())
    BadgeFactory(member=holder)
    product = DayPassProductFactory(name="Laser day", machines=[laser], locations=[la])
    DayPassFactory(product=product, holder=holder, day=date(2026, 12, 10))
    return holder, laser, lathe


def test_a_pass_holder_books_the_passes_machine_on_its_day(scene):
    holder, laser, _ = scene
    booking = booking_create(member=holder, machine=laser, start=NOW + H, end=NOW + 2 * H, now=NOW)
    assert booking.member == holder
    assert member_outlook(member=holder, machine=laser, now=NOW).may_book


@pytest.mark.parametrize(
    ("machine", "start", "end"),
    [
        ("laser", NOW + 24 * H, NOW + 25 * H),  # the next day
        ("laser", NOW + 15 * H, NOW + 17 * H),  # 23:00 to 01:00: past the pass's midnight
        ("lathe", NOW + H, NOW + 2 * H),  # a machine it does not name
    ],
)
def test_a_pass_holder_cannot_book_outside_the_pass(scene, machine, start, end):
    holder, laser, lathe = scene
    with pytest.raises(BookingRejected) as refused:
        booking_create(
            member=holder,
            machine={"laser": laser, "lathe": lathe}[machine],
            start=start,
            end=end,
            now=NOW,
        )
    assert refused.value.reason is Refusal.MEMBERSHIP_INACTIVE


def test_the_lathe_tells_a_pass_holder_it_is_not_theirs(scene):
    holder, _, lathe = scene
    assert not member_outlook(member=holder, machine=lathe, now=NOW).may_book


def test_a_machine_the_pass_does_not_open_says_what_it_does(scene):
    holder, _, lathe = scene
    DayPassFactory(
        product=DayPassProductFactory(name="Laser tomorrow", machines=[lathe]),
        holder=holder,
        day=date(2026, 12, 11),
    )
    other = MachineFactory(name="Mill LA", slug="mill-la", location=lathe.location)
    outlook = member_outlook(member=holder, machine=other, now=NOW)
    assert outlook.code == "membership_inactive"
    assert outlook.why == (
        "Your day pass does not open Mill LA. Day pass: Laser LA today until midnight; "
        "Day pass: Lathe LA on Fri 11 Dec."
    )


def test_the_checklist_tells_a_pass_holder_what_their_pass_opens(scene):
    holder, *_ = scene
    with time_machine.travel(NOW, tick=False):
        ready = member_readiness(holder)
        payment = next(step for step in ready.steps if step.key == "payment")
        assert payment.title == "Day pass: Laser LA today until midnight"
        assert payment.done and payment.warning and not ready.missing
        DayPass.objects.update(state=DayPassState.REFUNDED)
        payment = next(step for step in member_readiness(holder).steps if step.key == "payment")
    assert not payment.done and payment.detail == "You have no membership yet."


@pytest.mark.parametrize("standing", ["lapsed", "plan elsewhere"])
def test_a_pass_stands_in_for_what_the_membership_lacks(scene, standing):
    """A lapsed membership on an all-locations plan, or a paid one whose plan names another
    location: either way the pass for the machine's day lets its holder book it, and without
    the pass the same member is refused for what the membership lacks."""
    holder, laser, _ = scene
    if standing == "lapsed":
        MembershipFactory(member=holder, status=MembershipStatus.CANCELED)
        refusal = Refusal.MEMBERSHIP_INACTIVE
    else:
        elsewhere = PlanFactory(name="Elsewhere only", is_default=False, all_locations=False)
        elsewhere.locations.set([LocationFactory(slug="elsewhere")])
        MembershipFactory(member=holder, plan=elsewhere, current_period_end=NOW + 20 * 24 * H)
        refusal = Refusal.PLAN_EXCLUDES_LOCATION
    with time_machine.travel(NOW, tick=False):
        booking = booking_create(
            member=holder, machine=laser, start=NOW + H, end=NOW + 2 * H, now=NOW
        )
        assert booking.member == holder
        DayPass.objects.filter(holder=holder).update(state=DayPassState.REFUNDED)
        with pytest.raises(BookingRejected) as refused:
            booking_create(
                member=holder, machine=laser, start=NOW + 3 * H, end=NOW + 4 * H, now=NOW
            )
    assert refused.value.reason is refusal
