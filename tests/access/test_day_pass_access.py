"""The gate's decision with a day pass: its machines, on its local day, in its location's zone;
never another machine, another location, the next day, or without the certification."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.allowlist import allowlist_build
from access.facts import Scan
from access.models import AccessSource
from access.policy import Reason
from access.services import access_decide, access_decide_many
from equipment.models import DayPass, DayPassProduct, DayPassState
from membership.models import WaiverSignature
from tests.factories.access import GateDeviceFactory
from tests.factories.bookings import BookingFactory
from tests.factories.daypasses import DayPassFactory, DayPassProductFactory
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.locations import LocationFactory
from tests.factories.membership import (
    BadgeFactory,
    MemberFactory,
    WaiverFactory,
    WaiverSignatureFactory,
    ready_member,
)

DAY = date(2026, 12, 10)
H = timedelta(hours=1)
# 10 December 2026 begins at 08:00 UTC in Los Angeles (PST) and at 15:00 UTC on the 9th in Seoul.
LA_MIDNIGHT = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)
SEOUL_MIDNIGHT = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)


def visitor():
    """Someone with an account, the waiver signed and a badge, but no membership."""
    member = MemberFactory()
    WaiverSignatureFactory(member=member, waiver=WaiverFactory())
    BadgeFactory(member=member)
    return member


@pytest.fixture
def chain(db):
    """A laser in Los Angeles and one in Seoul, a third laser and a lathe in Los Angeles; a pass
    naming the two lasers at both locations, held by a certified visitor for 10 December."""
    la = LocationFactory(name="Los Angeles", slug="la", time_zone="America/Los_Angeles")
    seoul = LocationFactory(name="Seoul", slug="seoul", time_zone="Asia/Seoul")
    laser = certification("Laser cutter")
    machines = {
        "la": MachineFactory(name="Laser LA", slug="laser-la", location=la),
        "seoul": MachineFactory(name="Laser Seoul", slug="laser-seoul", location=seoul),
        "other_laser": MachineFactory(name="Laser LA 2", slug="laser-la-2", location=la),
        "lathe": MachineFactory(name="Lathe", slug="lathe", location=la),
    }
    lathe = certification("Metal lathe")
    for name, machine in machines.items():
        machine.required_certification = lathe if name == "lathe" else laser
        machine.save(update_fields=["required_certification"])
    product = DayPassProductFactory(
        name="Laser day", machines=[machines["la"], machines["seoul"]], locations=[la, seoul]
    )
    holder = visitor()
    certify(holder, laser, granted_at=LA_MIDNIGHT - timedelta(days=30))
    certify(holder, lathe, granted_at=LA_MIDNIGHT - timedelta(days=30))
    day_pass = DayPassFactory(product=product, holder=holder, day=DAY)
    return machines, holder, day_pass


def _scan(member, machine, at, *, booked=True):
    if booked:
        BookingFactory(machine=machine, member=member, start=at - H, end=at + H)
    return access_decide(
        badge_uid=member.badges.get().uid, machine=machine, source=AccessSource.WEB, at=at
    ).decision


def test_a_pass_opens_its_machine_on_its_day_until_local_midnight(chain):
    machines, holder, _ = chain
    decision = _scan(holder, machines["la"], LA_MIDNIGHT + 20 * H)  # 20:00 in Los Angeles
    assert decision.reason is Reason.ALLOWED_BOOKING
    # The booking runs to 21:00; a booking running past midnight would be cut there.
    assert decision.grant_end == LA_MIDNIGHT + 21 * H
    late = _scan(holder, machines["la"], LA_MIDNIGHT + 23.5 * H)  # 23:30, booked to 00:30
    assert late.reason is Reason.ALLOWED_BOOKING
    assert late.grant_end == LA_MIDNIGHT + 24 * H


@pytest.mark.parametrize(
    ("where", "at", "reason"),
    [
        ("la", LA_MIDNIGHT + 24 * H, Reason.MEMBERSHIP_INACTIVE),  # the next day, 00:00
        ("la", LA_MIDNIGHT - timedelta(minutes=1), Reason.MEMBERSHIP_INACTIVE),  # the day before
        ("other_laser", LA_MIDNIGHT + 12 * H, Reason.MEMBERSHIP_INACTIVE),  # not named
        ("lathe", LA_MIDNIGHT + 12 * H, Reason.MEMBERSHIP_INACTIVE),  # not named
        # 10 December in Los Angeles, already the 11th in Seoul.
        ("seoul", LA_MIDNIGHT + 12 * H, Reason.MEMBERSHIP_INACTIVE),
        ("seoul", SEOUL_MIDNIGHT + 12 * H, Reason.ALLOWED_BOOKING),  # noon in Seoul on the 10th
        # 9 December in Los Angeles, already the 10th in Seoul.
        ("la", SEOUL_MIDNIGHT + 2 * H, Reason.MEMBERSHIP_INACTIVE),
        ("seoul", SEOUL_MIDNIGHT + 2 * H, Reason.ALLOWED_BOOKING),
    ],
)
def test_a_pass_opens_nothing_else_and_at_no_other_time_in_either_zone(chain, where, at, reason):
    machines, holder, _ = chain
    assert _scan(holder, machines[where], at).reason is reason


def test_in_seoul_the_pass_ends_at_seouls_midnight(chain):
    machines, holder, _ = chain
    decision = _scan(holder, machines["seoul"], SEOUL_MIDNIGHT + 23.5 * H)
    assert decision.grant_end == SEOUL_MIDNIGHT + 24 * H


def test_a_pass_still_needs_the_certification_the_waiver_and_a_booking(chain):
    machines, holder, _ = chain
    at = LA_MIDNIGHT + 12 * H
    assert _scan(holder, machines["la"], at, booked=False).reason is Reason.NO_BOOKING_NOW
    holder.certifications.filter(certification=machines["la"].required_certification).delete()
    assert _scan(holder, machines["la"], at + H).reason is Reason.NOT_CERTIFIED
    WaiverSignature.objects.filter(member=holder).delete()
    assert _scan(holder, machines["la"], at + 3 * H).reason is Reason.WAIVER_MISSING


@pytest.mark.parametrize("state", [DayPassState.AWAITING, DayPassState.EXPIRED])
def test_a_pass_not_paid_opens_nothing(chain, state):
    machines, holder, day_pass = chain
    type(day_pass).objects.filter(pk=day_pass.pk).update(state=state)
    assert _scan(holder, machines["la"], LA_MIDNIGHT + 12 * H).reason is Reason.MEMBERSHIP_INACTIVE


def test_a_member_whose_plan_excludes_the_location_gets_in_on_a_pass_for_that_day_only(chain):
    machines, _, day_pass = chain
    member = ready_member(plan__all_locations=False)
    certify(member, machines["la"].required_certification)
    DayPassFactory(product=day_pass.product, holder=member, day=DAY)
    assert _scan(member, machines["la"], LA_MIDNIGHT + 12 * H).reason is Reason.ALLOWED_BOOKING
    nextday = _scan(member, machines["la"], LA_MIDNIGHT + 36 * H)
    assert nextday.reason is Reason.PLAN_EXCLUDES_LOCATION


def test_a_member_in_good_standing_is_not_cut_at_midnight_by_a_pass(chain):
    machines, _, day_pass = chain
    member = ready_member(current_period_end=LA_MIDNIGHT + 40 * 24 * H)
    certify(member, machines["la"].required_certification)
    DayPassFactory(product=day_pass.product, holder=member, day=DAY)
    decision = _scan(member, machines["la"], LA_MIDNIGHT + 23.5 * H)
    assert decision.grant_end == LA_MIDNIGHT + 24.5 * H


def test_a_class_of_machines_on_a_pass_opens_each_machine_of_that_class(chain):
    machines, holder, day_pass = chain
    day_pass.product.certifications.add(machines["la"].required_certification)
    at = LA_MIDNIGHT + 12 * H
    assert _scan(holder, machines["other_laser"], at).reason is Reason.ALLOWED_BOOKING
    assert _scan(holder, machines["lathe"], at + 3 * H).reason is Reason.MEMBERSHIP_INACTIVE


def test_the_offline_allow_list_stops_a_pass_holders_booking_at_local_midnight(chain):
    machines, holder, _ = chain
    device = GateDeviceFactory(machine=machines["la"])
    start = LA_MIDNIGHT + 23 * H
    BookingFactory(machine=machines["la"], member=holder, start=start, end=start + 2 * H)
    built = allowlist_build(device, now=start - 2 * H)
    (entry,) = built.entries
    assert entry.window_end == int((LA_MIDNIGHT + 24 * H).timestamp())


def test_a_batch_mixing_pass_holders_and_members_decides_each_scan_as_alone(chain):
    """A bridge's burst of scans: each pass is read for its own holder's scan, and a member in
    good standing who also holds a pass is not cut at midnight by it."""
    machines, holder, day_pass = chain
    day_pass.product.machines.add(machines["other_laser"])
    laser, lathe = machines["la"].required_certification, machines["lathe"].required_certification
    paid_up = {"current_period_end": LA_MIDNIGHT + 40 * 24 * H}
    member = ready_member(**paid_up)
    # Paid up, on a plan that opens no location (the factory's plans are shared by name).
    elsewhere = {"plan__name": "Elsewhere", "plan__is_default": False, "plan__all_locations": False}
    excluded, excluded_without_pass = (ready_member(**elsewhere, **paid_up) for _ in "ab")
    stranger = visitor()
    for person in (member, excluded, excluded_without_pass, stranger):
        certify(person, laser, granted_at=LA_MIDNIGHT - timedelta(days=30))
    certify(member, lathe, granted_at=LA_MIDNIGHT - timedelta(days=30))
    for person in (member, excluded):
        DayPassFactory(product=day_pass.product, holder=person, day=DAY)
    late = LA_MIDNIGHT + 23.5 * H  # 23:30 in Los Angeles; these bookings run to 00:30
    expected = [
        (member, machines["lathe"], late, Reason.ALLOWED_BOOKING, late + H),
        (
            excluded_without_pass,
            machines["la"],
            LA_MIDNIGHT + 12 * H,
            Reason.PLAN_EXCLUDES_LOCATION,
            None,
        ),
        (holder, machines["la"], late, Reason.ALLOWED_BOOKING, LA_MIDNIGHT + 24 * H),
        (stranger, machines["la"], LA_MIDNIGHT + 15 * H, Reason.MEMBERSHIP_INACTIVE, None),
        (excluded, machines["other_laser"], late, Reason.ALLOWED_BOOKING, LA_MIDNIGHT + 24 * H),
        # Already 11 December in Seoul.
        (holder, machines["seoul"], LA_MIDNIGHT + 12 * H, Reason.MEMBERSHIP_INACTIVE, None),
    ]
    for person, machine, at, _, _ in expected:
        BookingFactory(machine=machine, member=person, start=at - H, end=at + H)
    scans = [
        Scan(badge_uid=person.badges.get().uid, machine=machine, at=at)
        for person, machine, at, _, _ in expected
    ]

    decisions = [r.decision for r in access_decide_many(scans, source=AccessSource.WEB)]

    assert [(d.reason, d.grant_end if d.allowed else None) for d in decisions] == [
        (reason, grant_end) for *_, reason, grant_end in expected
    ]
    alone = [_scan(p, m, at, booked=False) for p, m, at, _, _ in expected]
    assert [(d.reason, d.grant_end) for d in alone] == [(d.reason, d.grant_end) for d in decisions]


def _day_pass_queries(scans):
    tables = {DayPass._meta.db_table, DayPassProduct._meta.db_table}
    with CaptureQueriesContext(connection) as queries:
        access_decide_many(scans, source=AccessSource.WEB)
    return [q["sql"] for q in queries if any(f'"{table}"' in q["sql"] for table in tables)]


def test_day_passes_are_looked_up_only_for_scans_by_someone_not_in_good_standing_there(chain):
    machines, holder, day_pass = chain
    at = LA_MIDNIGHT + 12 * H
    members = [ready_member(current_period_end=LA_MIDNIGHT + 40 * 24 * H) for _ in range(2)]
    for member in members:  # passes held, but never needed
        DayPassFactory(product=day_pass.product, holder=member, day=DAY)
    paid_up = [Scan(badge_uid=m.badges.get().uid, machine=machines["la"], at=at) for m in members]
    assert _day_pass_queries(paid_up) == []
    with_a_visitor = [
        *paid_up,
        Scan(badge_uid=holder.badges.get().uid, machine=machines["la"], at=at),
    ]
    assert _day_pass_queries(with_a_visitor) != []
