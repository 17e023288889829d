"""Plans and access across the chain: a plan opens all locations or the ones it names, a
certification counts everywhere, a local check-out only where it was given. The access decision,
the offline allow-list and booking all say the same."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from access.allowlist import allowlist_build
from access.facts import Scan, gather_facts_many
from access.models import AccessSource
from access.policy import Reason
from access.services import access_decide
from bookings import outlook, services
from bookings.errors import BookingRejected
from bookings.models import Booking
from gate_agent import protocol as p
from membership import roles
from membership import selectors as membership_selectors
from membership.models import Plan
from tests.factories.access import GateDeviceFactory
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.membership import PlanFactory, UserFactory, ready_member
from training.models import LocalCheckout, MemberCheckout
from training.selectors import held_at, member_holds_checkout

NOW = timezone.now().replace(second=0, microsecond=0) + timedelta(days=1)
H = timedelta(hours=1)


@pytest.fixture
def lasers(menlo, raleigh):
    laser = certification("Laser cutter")
    return (
        MachineFactory(name="Menlo laser", location=menlo, required_certification=laser),
        MachineFactory(name="Raleigh laser", location=raleigh, required_certification=laser),
    )


@pytest.fixture
def everywhere(db):
    return PlanFactory(name="All locations", is_default=False)


@pytest.fixture
def menlo_only(menlo):
    plan = PlanFactory(name="Menlo Park only", is_default=False, all_locations=False)
    plan.locations.set([menlo])
    return plan


def member_on(plan: Plan, *, certified_on=None):
    member = ready_member(plan=plan, current_period_end=NOW + timedelta(days=20))
    if certified_on is not None:
        certify(member, certified_on.required_certification, granted_at=NOW - timedelta(days=30))
    return member


def decide(member, machine, at=NOW):
    return access_decide(
        badge_uid=member.badges.get().uid, machine=machine, source=AccessSource.WEB, at=at
    ).decision


# --- The plan ----------------------------------------------------------------------------------


def test_an_all_locations_plan_opens_every_location(lasers, everywhere):
    member = member_on(everywhere, certified_on=lasers[0])
    for machine in lasers:
        BookingFactory(member=member, machine=machine, start=NOW - H, end=NOW + H)
        assert decide(member, machine).reason is Reason.ALLOWED_BOOKING


def test_a_limited_plan_opens_only_the_locations_it_names(lasers, menlo_only):
    menlo_laser, raleigh_laser = lasers
    member = member_on(menlo_only, certified_on=menlo_laser)
    for machine in lasers:
        BookingFactory(member=member, machine=machine, start=NOW - H, end=NOW + H)
    assert decide(member, menlo_laser).reason is Reason.ALLOWED_BOOKING
    refused = decide(member, raleigh_laser)
    assert refused.reason is Reason.PLAN_EXCLUDES_LOCATION and refused.grant_end is None
    assert refused.message == Reason.PLAN_EXCLUDES_LOCATION.sentence


def test_a_limited_plan_naming_no_location_opens_none(lasers, db):
    plan = PlanFactory(name="Nowhere", is_default=False, all_locations=False)
    member = member_on(plan, certified_on=lasers[0])
    assert {decide(member, m).reason for m in lasers} == {Reason.PLAN_EXCLUDES_LOCATION}


def test_a_plan_naming_both_opens_both(lasers, menlo, raleigh):
    plan = PlanFactory(name="Two", is_default=False, all_locations=False)
    plan.locations.set([menlo, raleigh])
    member = member_on(plan, certified_on=lasers[0])
    for machine in lasers:
        BookingFactory(member=member, machine=machine, start=NOW - H, end=NOW + H)
    assert {decide(member, m).reason for m in lasers} == {Reason.ALLOWED_BOOKING}


def test_a_maintainer_elsewhere_is_still_held_to_the_plan(lasers, menlo_only):
    menlo_laser, raleigh_laser = lasers
    member = member_on(menlo_only, certified_on=menlo_laser)
    raleigh_laser.maintainers.add(member.user)
    assert decide(member, raleigh_laser).reason is Reason.PLAN_EXCLUDES_LOCATION


def test_the_facts_of_many_scans_read_each_plan(lasers, menlo_only, everywhere):
    limited, full = member_on(menlo_only), member_on(everywhere)
    scans = [
        Scan(badge_uid=m.badges.get().uid, machine=machine, at=NOW)
        for m in (limited, full)
        for machine in lasers
    ]
    covered = [g.facts.plan_covers_location for g in gather_facts_many(scans)]
    assert covered == [True, False, True, True]


@pytest.mark.parametrize(
    ("all_locations", "named", "location", "opens"),
    [
        (True, set(), 1, True),
        (False, {1}, 1, True),
        (False, {2}, 1, False),
        (False, set(), 1, False),
    ],
)
def test_plan_opens_location(all_locations, named, location, opens):
    plan = Plan(name="p", monthly_price_cents=0, all_locations=all_locations)
    assert membership_selectors.plan_opens_location(plan, location, named=named) is opens


def test_no_plan_opens_nothing():
    assert membership_selectors.plan_opens_location(None, 1, named={1}) is False


def test_plans_named_locations_reads_only_the_plans_asked(menlo, raleigh, menlo_only):
    other = PlanFactory(name="Raleigh only", is_default=False, all_locations=False)
    other.locations.set([raleigh])
    assert membership_selectors.plans_named_locations([menlo_only.pk]) == {
        menlo_only.pk: frozenset({menlo.pk})
    }


# --- The offline allow-list ---------------------------------------------------------------------


def listed_uids(device) -> set[str]:
    allowlist = allowlist_build(device, now=NOW)
    from membership.models import Badge

    uid_of = {p.allowlist_badge_hash(b.uid, device.secret): b.uid for b in Badge.objects.all()}
    return {uid_of[entry.badge_hash] for entry in allowlist.entries}


def test_the_allow_list_leaves_out_members_whose_plan_excludes_the_gates_location(
    lasers, menlo_only, everywhere
):
    menlo_laser, raleigh_laser = lasers
    limited = member_on(menlo_only, certified_on=menlo_laser)
    full = member_on(everywhere, certified_on=menlo_laser)
    for hours, member in enumerate((limited, full), start=1):
        for machine in lasers:
            BookingFactory(
                member=member, machine=machine, start=NOW + hours * H, end=NOW + (hours + 1) * H
            )
    assert listed_uids(GateDeviceFactory(machine=raleigh_laser)) == {full.badges.get().uid}
    assert listed_uids(GateDeviceFactory(machine=menlo_laser)) == {
        limited.badges.get().uid,
        full.badges.get().uid,
    }


# --- Local check-outs ---------------------------------------------------------------------------


@pytest.fixture
def checkout(raleigh):
    return LocalCheckout.objects.create(location=raleigh, name="Raleigh laser check-out")


def test_a_certification_counts_at_every_location(lasers, everywhere):
    menlo_laser, raleigh_laser = lasers
    member = member_on(everywhere, certified_on=menlo_laser)  # taken in Menlo Park
    BookingFactory(member=member, machine=raleigh_laser, start=NOW - H, end=NOW + H)
    assert decide(member, raleigh_laser).reason is Reason.ALLOWED_BOOKING


def test_a_machine_needing_a_local_check_out_refuses_without_it(lasers, everywhere, checkout):
    _, raleigh_laser = lasers
    raleigh_laser.required_checkout = checkout
    raleigh_laser.save()
    member = member_on(everywhere, certified_on=raleigh_laser)
    BookingFactory(member=member, machine=raleigh_laser, start=NOW - H, end=NOW + H)
    assert decide(member, raleigh_laser).reason is Reason.LOCAL_CHECKOUT_MISSING
    grant = MemberCheckout.objects.create(
        member=member,
        checkout=checkout,
        granted_by=UserFactory(),
        granted_at=NOW - 2 * H,
    )
    assert decide(member, raleigh_laser).reason is Reason.ALLOWED_BOOKING
    # Decided at an instant before it was given, or after it was revoked: not held.
    assert decide(member, raleigh_laser, at=NOW - 3 * H).reason is not Reason.ALLOWED_BOOKING
    grant.revoked_at, grant.revoke_reason = NOW - H, "Unsafe"
    grant.save()
    assert decide(member, raleigh_laser).reason is Reason.LOCAL_CHECKOUT_MISSING


def test_the_check_out_is_asked_of_maintainers_too(lasers, everywhere, checkout):
    _, raleigh_laser = lasers
    raleigh_laser.required_checkout = checkout
    raleigh_laser.save()
    member = member_on(everywhere, certified_on=raleigh_laser)
    raleigh_laser.maintainers.add(member.user)
    assert decide(member, raleigh_laser).reason is Reason.LOCAL_CHECKOUT_MISSING


def test_the_allow_list_asks_for_the_check_out(lasers, everywhere, checkout):
    _, raleigh_laser = lasers
    raleigh_laser.required_checkout = checkout
    raleigh_laser.save()
    without, with_it = (member_on(everywhere, certified_on=raleigh_laser) for _ in range(2))
    MemberCheckout.objects.create(
        member=with_it, checkout=checkout, granted_by=UserFactory(), granted_at=NOW - H
    )
    for hours, member in enumerate((without, with_it), start=1):
        BookingFactory(
            member=member, machine=raleigh_laser, start=NOW + hours * H, end=NOW + (hours + 1) * H
        )
    assert listed_uids(GateDeviceFactory(machine=raleigh_laser)) == {with_it.badges.get().uid}


@pytest.mark.parametrize(
    ("grants", "at", "held"),
    [
        ([], 0, False),
        ([(0, None)], 0, True),
        ([(1, None)], 0, False),
        ([(0, 2)], 1, True),
        ([(0, 2)], 2, False),
        ([(0, 1), (2, None)], 1, False),
        ([(0, 1), (2, None)], 3, True),
    ],
)
def test_held_at(grants, at, held):
    base = NOW

    def t(hours):
        return None if hours is None else base + hours * H

    assert held_at([(t(g), t(r)) for g, r in grants], at=t(at)) is held


def test_no_check_out_needed_is_held(db):
    assert member_holds_checkout(member=None, checkout_id=None, at=NOW) is True


# --- Booking ------------------------------------------------------------------------------------


def test_booking_at_an_excluded_location_is_refused_with_a_sentence(lasers, menlo_only):
    menlo_laser, raleigh_laser = lasers
    raleigh_laser.weekly_hours_per_member = 0
    member = member_on(menlo_only, certified_on=menlo_laser)
    start = (timezone.now() + timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)
    with pytest.raises(BookingRejected) as refused:
        services.booking_create(
            member=member, machine=raleigh_laser, start=start, end=start + H, actor=member.user
        )
    assert refused.value.message == (
        "Your plan does not include Raleigh, where Raleigh laser is. Ask the front desk about a "
        "plan for all locations."
    )
    assert not Booking.objects.exists()
    services.booking_create(member=member, machine=menlo_laser, start=start, end=start + H)


def test_booking_a_machine_needing_a_check_out_is_refused_without_it(lasers, everywhere, checkout):
    _, raleigh_laser = lasers
    raleigh_laser.required_checkout = checkout
    raleigh_laser.save()
    member = member_on(everywhere, certified_on=raleigh_laser)
    start = (timezone.now() + timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)
    with pytest.raises(BookingRejected, match="also needs the Raleigh laser check-out"):
        services.booking_create(member=member, machine=raleigh_laser, start=start, end=start + H)
    assert not Booking.objects.exists()
    MemberCheckout.objects.create(
        member=member, checkout=checkout, granted_by=UserFactory(), granted_at=NOW - 2 * H
    )
    services.booking_create(member=member, machine=raleigh_laser, start=start, end=start + H)
    assert Booking.objects.get().member == member


def test_the_calendar_says_before_any_click_what_the_plan_or_a_check_out_leaves_out(
    lasers, menlo_only, everywhere, checkout
):
    """The machine cards and the grid refuse, with the booking's own sentence, a machine the
    member's plan leaves out or whose local check-out they lack; the check-out given, it opens."""
    menlo_laser, raleigh_laser = lasers
    limited = member_on(menlo_only, certified_on=menlo_laser)
    assert outlook.member_outlook(member=limited, machine=menlo_laser, now=NOW).may_book
    seen = outlook.member_outlook(member=limited, machine=raleigh_laser, now=NOW)
    assert (seen.may_book, seen.why) == (
        False,
        "Your plan does not include Raleigh, where Raleigh laser is. Ask the front desk about a "
        "plan for all locations.",
    )
    raleigh_laser.required_checkout = checkout
    raleigh_laser.save()
    member = member_on(everywhere, certified_on=raleigh_laser)
    seen = outlook.member_outlook(member=member, machine=raleigh_laser, now=NOW)
    assert (seen.may_book, seen.why) == (
        False,
        "Raleigh laser also needs the Raleigh laser check-out, given by the staff at Raleigh.",
    )
    MemberCheckout.objects.create(
        member=member, checkout=checkout, granted_by=UserFactory(), granted_at=NOW - H
    )
    assert outlook.member_outlook(member=member, machine=raleigh_laser, now=NOW).may_book


# --- A plan's locations change ------------------------------------------------------------------


def test_a_plan_losing_a_location_takes_it_from_its_members_at_once(
    lasers, everywhere, raleigh, menlo, gate_calls
):
    from membership.services import plan_locations_set

    member = member_on(everywhere)
    plan_locations_set(plan=everywhere, all_locations=False, locations=[menlo])
    assert gate_calls.members() == [member.pk]
    lost = next(kw for name, kw in gate_calls if name == "member_lost_access")
    assert list(lost["machines"]) == [lasers[1]]
    assert lost["reason"] == "plan_excludes_location"
    everywhere.refresh_from_db()
    assert not everywhere.all_locations and list(everywhere.locations.all()) == [menlo]
    gate_calls.clear()
    plan_locations_set(plan=everywhere, all_locations=True, locations=[])
    assert gate_calls.members() == [] and gate_calls.machines() == [lasers[1]]


def test_only_plan_managers_change_a_plans_locations(everywhere, menlo):
    from membership.errors import MembershipError
    from membership.services import plan_locations_set

    with pytest.raises(MembershipError):
        plan_locations_set(
            plan=everywhere, all_locations=False, locations=[menlo], actor=UserFactory()
        )
    everywhere.refresh_from_db()
    assert everywhere.all_locations


def test_the_admin_saves_a_plans_locations_through_the_service(
    admin_client, lasers, everywhere, menlo, gate_calls
):
    from django.urls import reverse

    member = member_on(everywhere)
    response = admin_client.post(
        reverse("admin:membership_plan_change", args=[everywhere.pk]),
        {
            "name": everywhere.name,
            "monthly_price_cents": 5000,
            "currency": "usd",
            "stripe_price_id": "",
            "locations": [menlo.pk],
        },
    )
    assert response.status_code == 302
    everywhere.refresh_from_db()
    assert not everywhere.all_locations and list(everywhere.locations.all()) == [menlo]
    assert gate_calls.members() == [member.pk]


# --- Giving and revoking check-outs tells the gates ---------------------------------------------


def test_a_check_out_given_and_revoked_tells_the_gates(lasers, everywhere, checkout, gate_calls):
    from training import services as training_services
    from training.errors import TrainingError

    _, raleigh_laser = lasers
    raleigh_laser.required_checkout = checkout
    raleigh_laser.save()
    member = member_on(everywhere, certified_on=raleigh_laser)
    staff = UserFactory(role=roles.STAFF)
    grant = training_services.checkout_grant(member=member, checkout=checkout, actor=staff)
    assert gate_calls.machines() == [raleigh_laser]
    with pytest.raises(TrainingError, match="already holds"):
        training_services.checkout_grant(member=member, checkout=checkout, actor=staff)
    with pytest.raises(TrainingError, match="Say why"):
        training_services.checkout_revoke(grant=grant, reason=" ", actor=staff)
    training_services.checkout_revoke(grant=grant, reason="Unsafe", actor=staff)
    assert gate_calls.members() == [member.pk]
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by == staff
    with pytest.raises(TrainingError, match="already revoked"):
        training_services.checkout_revoke(grant=grant, reason="Again", actor=staff)


def test_only_training_staff_give_check_outs(lasers, everywhere, checkout):
    from training import services as training_services
    from training.errors import NotAllowed

    member = member_on(everywhere)
    with pytest.raises(NotAllowed):
        training_services.checkout_grant(member=member, checkout=checkout, actor=UserFactory())
    assert not MemberCheckout.objects.exists()


def test_staff_booking_for_a_member_are_offered_lengths_whatever_their_own_plan_and_check_outs(
    lasers, menlo_only, checkout
):
    """At the desk, staff pick a slot and name the member afterwards: the member's plan and
    check-out are checked when they book, not the staff member's own."""
    _, raleigh_laser = lasers
    raleigh_laser.required_checkout = checkout
    raleigh_laser.save()
    desk = member_on(menlo_only)  # the staff member's own membership opens only Menlo Park
    start = (timezone.now() + timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)

    offered = outlook.booking_lengths(
        member=desk, machine=raleigh_laser, start=start, for_anyone=True
    )

    assert offered.minutes and offered.refused is None
