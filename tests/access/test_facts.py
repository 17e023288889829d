"""The facts of a decision, read in one statement: each fact, at its edges, on either database
(`DATABASE_URL=postgres://… pytest tests/access/test_facts.py` runs them on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.facts import Scan, gather_facts_many
from access.models import AccessSource
from access.policy import AccessFacts, Reason
from access.services import access_decide, access_decide_many
from bookings.models import BookingState
from equipment.models import MachineState
from membership.models import MembershipStatus
from staffing.models import Role
from tests.factories.access import (
    AccessEventFactory,
    EmergencyStopFactory,
    GateDeviceFactory,
    UsageSessionFactory,
)
from tests.factories.bookings import BookingFactory
from tests.factories.daypasses import DayPassFactory, DayPassProductFactory
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.locations import LocationFactory
from tests.factories.membership import (
    BadgeFactory,
    WaiverFactory,
    WaiverSignatureFactory,
    ready_member,
)
from tests.factories.staffing import LocationRoleFactory
from tests.factories.training import LocalCheckoutFactory, MemberCheckoutFactory

NOW = datetime(2026, 6, 10, 18, 0, tzinfo=UTC)


def facts_of(uid: str, machine, *, at: datetime = NOW, **scan):
    [gathered] = gather_facts_many([Scan(badge_uid=uid, machine=machine, at=at, **scan)])
    return gathered


def reason_of(uid: str, machine, *, at: datetime = NOW) -> Reason:
    return access_decide(
        badge_uid=uid, machine=machine, source=AccessSource.WEB, at=at
    ).decision.reason


@pytest.fixture
def member(db):
    return ready_member(current_period_end=NOW + timedelta(days=20))


@pytest.fixture
def uid(member) -> str:
    return member.badges.get().uid


@pytest.fixture
def machine(db):
    return MachineFactory()


def test_a_paid_up_scan_takes_one_statement_and_so_does_a_batch(member, uid, machine):
    """Facts for one scan, or for many, in a single round trip to the database."""
    with CaptureQueriesContext(connection) as one:
        facts_of(uid, machine)
    others = [ready_member(current_period_end=NOW + timedelta(days=20)) for _ in range(3)]
    scans = [Scan(badge_uid=m.badges.get().uid, machine=machine, at=NOW) for m in others]
    with CaptureQueriesContext(connection) as many:
        gather_facts_many([*scans, Scan(badge_uid="DEADBEEF", machine=machine, at=NOW)])
    assert (len(one), len(many)) == (1, 1)


def test_each_fact_of_an_allowed_member(member, uid, machine):
    facts = facts_of(uid, machine).facts
    assert (facts.badge_known, facts.badge_enabled, facts.member_name) == (
        True,
        True,
        member.display_name,
    )
    assert facts.membership_in_good_standing and facts.plan_covers_location
    assert facts.waiver_signed and facts.machine_in_service and facts.certified
    assert facts.local_checkout_held
    assert not (facts.machine_retired or facts.machine_emergency_stopped)
    assert not (facts.machine_in_use_by_another or facts.certification_lapsed)
    assert not (facts.is_instructor or facts.is_maintainer)
    assert (facts.booking_end, facts.day_pass_until) == (None, None)


def test_a_member_without_a_name_is_named_by_email(db, machine):
    member = ready_member(current_period_end=NOW + timedelta(days=20))
    member.user.first_name = member.user.last_name = ""
    member.user.save()
    assert facts_of(member.badges.get().uid, machine).facts.member_name == member.user.email


def test_the_enabled_badge_wins_else_the_latest_disabled_one(member, uid, machine):
    """The same UID may be on file twice (a badge handed back and given out again)."""
    other = ready_member()
    member.badges.update(enabled=False, disabled_reason="Lost", issued_at=NOW - timedelta(days=9))
    BadgeFactory(
        member=other,
        uid=uid,
        enabled=False,
        disabled_reason="Lost",
        issued_at=NOW - timedelta(days=1),
    )
    assert facts_of(uid, machine).member_id == other.pk
    other.badges.filter(uid=uid).update(issued_at=NOW - timedelta(days=20))
    gathered = facts_of(uid, machine)
    assert (gathered.member_id, gathered.facts.badge_enabled) == (member.pk, False)
    member.badges.update(enabled=True, disabled_reason="")
    other.badges.filter(uid=uid).update(issued_at=NOW)
    assert facts_of(uid, machine).member_id == member.pk
    assert reason_of("0" * 7 + "1", machine) is Reason.UNKNOWN_BADGE


@pytest.mark.parametrize(
    ("status", "paid_through", "standing"),
    [
        (MembershipStatus.ACTIVE, None, True),  # comped by hand
        (MembershipStatus.ACTIVE, NOW - timedelta(days=3) + timedelta(seconds=1), True),
        (MembershipStatus.ACTIVE, NOW - timedelta(days=3), False),
        (MembershipStatus.PAST_DUE, NOW - timedelta(days=2), True),
        (MembershipStatus.PAST_DUE, NOW - timedelta(days=3), False),
        (MembershipStatus.PAST_DUE, None, False),
        (MembershipStatus.PENDING, NOW + timedelta(days=9), False),
        (MembershipStatus.CANCELED, NOW + timedelta(days=9), False),
    ],
)
def test_good_standing_runs_to_the_end_of_the_grace_period(
    member, uid, machine, settings, status, paid_through, standing
):
    settings.MEMBERSHIP_GRACE_DAYS = 3
    member.membership.status, member.membership.current_period_end = status, paid_through
    member.membership.save()
    assert facts_of(uid, machine).facts.membership_in_good_standing is standing
    if not standing:
        assert reason_of(uid, machine) is Reason.MEMBERSHIP_INACTIVE


def test_a_member_without_a_membership_is_not_in_good_standing(member, uid, machine):
    member.membership.delete()
    facts = facts_of(uid, machine).facts
    assert not (facts.membership_in_good_standing or facts.plan_covers_location)


def test_a_limited_plan_opens_only_the_locations_it_names(member, uid, db):
    here, there = LocationFactory(), LocationFactory()
    plan = member.membership.plan
    plan.all_locations = False
    plan.save()
    plan.locations.set([there])
    assert not facts_of(uid, MachineFactory(location=here)).facts.plan_covers_location
    assert reason_of(uid, MachineFactory(location=here)) is Reason.PLAN_EXCLUDES_LOCATION
    assert facts_of(uid, MachineFactory(location=there)).facts.plan_covers_location
    plan.all_locations = True
    plan.save()
    assert facts_of(uid, MachineFactory(location=here)).facts.plan_covers_location


def test_only_the_current_waiver_counts(member, uid, machine):
    assert facts_of(uid, machine).facts.waiver_signed
    WaiverFactory(version=2)
    assert not facts_of(uid, machine).facts.waiver_signed
    assert reason_of(uid, machine) is Reason.WAIVER_MISSING
    WaiverSignatureFactory(member=member, waiver=WaiverFactory(version=2))
    assert facts_of(uid, machine).facts.waiver_signed


@pytest.mark.parametrize(
    ("state", "in_service", "retired", "reason"),
    [
        (MachineState.OUT_OF_SERVICE, False, False, Reason.MACHINE_OUT_OF_SERVICE),
        (MachineState.RETIRED, False, True, Reason.MACHINE_OUT_OF_SERVICE),
    ],
)
def test_the_machine_state_is_read_now_not_from_the_scan(
    member, uid, machine, state, in_service, retired, reason
):
    """The scan's machine may be a bridge's cached copy: its state is read in the statement."""
    stale = type(machine).objects.get(pk=machine.pk)
    type(machine).objects.filter(pk=machine.pk).update(state=state)
    facts = facts_of(uid, stale).facts
    assert (facts.machine_in_service, facts.machine_retired) == (in_service, retired)
    assert reason_of(uid, stale) is reason


def test_an_emergency_stop_holds_until_cleared(member, uid, machine):
    EmergencyStopFactory(machine=MachineFactory())  # another machine's
    cleared = EmergencyStopFactory(
        machine=machine, cleared_at=NOW - timedelta(minutes=1), clear_reason="Checked"
    )
    assert not facts_of(uid, machine).facts.machine_emergency_stopped
    type(cleared).objects.filter(pk=cleared.pk).update(cleared_at=None, clear_reason="")
    assert facts_of(uid, machine).facts.machine_emergency_stopped
    assert reason_of(uid, machine) is Reason.EMERGENCY_STOPPED


@pytest.mark.parametrize(
    ("whose", "grant_end", "ended", "in_use"),
    [
        ("another", NOW + timedelta(minutes=1), False, True),
        ("nobody", NOW + timedelta(minutes=1), False, True),  # a badge no longer on file
        ("own", NOW + timedelta(minutes=1), False, False),
        ("another", NOW, False, False),  # its grant is over
        ("another", None, False, False),
        ("another", NOW + timedelta(minutes=1), True, False),
    ],
)
def test_another_members_running_session_holds_the_machine(
    member, uid, machine, whose, grant_end, ended, in_use
):
    holder = {"another": ready_member(), "nobody": None, "own": member}[whose]
    UsageSessionFactory(
        device=GateDeviceFactory(machine=machine),
        machine=machine,
        member=holder,
        grant_end=grant_end,
        ended_at=NOW if ended else None,
    )
    assert facts_of(uid, machine).facts.machine_in_use_by_another is in_use
    # An allow-list window ahead is not refused for a session running now.
    assert not facts_of(uid, machine, now=False).facts.machine_in_use_by_another


@pytest.fixture
def chain(db):
    """Laser needs Workshop, which needs Safety; the machine requires Laser."""
    safety, workshop, laser = (certification(n) for n in ("Safety", "Workshop", "Laser"))
    laser.prerequisites.add(workshop)
    workshop.prerequisites.add(safety)
    return safety, workshop, laser


def test_the_whole_certification_chain_must_hold(member, uid, chain):
    safety, workshop, laser = chain
    machine = MachineFactory(required_certification=laser)
    certify(member, laser, granted_at=NOW - timedelta(days=1))
    certify(member, workshop, granted_at=NOW - timedelta(days=1))
    facts = facts_of(uid, machine).facts
    assert (facts.certified, facts.certification_lapsed) == (False, False)
    assert reason_of(uid, machine) is Reason.NOT_CERTIFIED
    certify(member, safety, granted_at=NOW - timedelta(days=1))
    assert facts_of(uid, machine).facts.certified


def test_a_cycle_of_prerequisites_ends(member, uid, chain):
    safety, _, laser = chain
    safety.prerequisites.add(laser)
    machine = MachineFactory(required_certification=laser)
    for cert in chain:
        certify(member, cert, granted_at=NOW - timedelta(days=1))
    assert facts_of(uid, machine).facts.certified


@pytest.mark.parametrize(
    ("grant", "certified", "lapsed"),
    [
        ({"granted_at": NOW}, True, False),
        ({"granted_at": NOW + timedelta(seconds=1)}, False, False),  # not yet
        ({"expires_at": NOW + timedelta(seconds=1)}, True, False),  # expiring soon still holds
        ({"expires_at": NOW}, False, True),
        ({"revoked_at": NOW + timedelta(seconds=1)}, True, False),
        ({"revoked_at": NOW}, False, True),
    ],
)
def test_a_grant_holds_from_its_grant_until_it_expires_or_is_revoked(
    member, uid, grant, certified, lapsed
):
    laser = certification("Laser")
    machine = MachineFactory(required_certification=laser)
    certify(member, laser, **{"granted_at": NOW - timedelta(days=30), **grant})
    facts = facts_of(uid, machine).facts
    assert (facts.certified, facts.certification_lapsed) == (certified, lapsed)
    if not certified:
        expected = Reason.CERTIFICATION_EXPIRED if lapsed else Reason.NOT_CERTIFIED
        assert reason_of(uid, machine) is expected


def test_a_lapsed_prerequisite_reads_as_lapsed_and_another_members_grants_do_not_count(
    member, uid, chain
):
    safety, workshop, laser = chain
    machine = MachineFactory(required_certification=laser)
    certify(member, laser, granted_at=NOW - timedelta(days=1))
    certify(member, workshop, granted_at=NOW - timedelta(days=1))
    certify(member, safety, granted_at=NOW - timedelta(days=9), expires_at=NOW - timedelta(days=1))
    certify(ready_member(), safety, granted_at=NOW - timedelta(days=1))
    facts = facts_of(uid, machine).facts
    assert (facts.certified, facts.certification_lapsed) == (False, True)


def test_a_local_check_out_holds_from_its_grant_until_revoked(member, uid):
    checkout = LocalCheckoutFactory()
    machine = MachineFactory(location=checkout.location, required_checkout=checkout)
    assert not facts_of(uid, machine).facts.local_checkout_held
    assert reason_of(uid, machine) is Reason.LOCAL_CHECKOUT_MISSING
    held = MemberCheckoutFactory(member=member, checkout=checkout)
    type(held).objects.filter(pk=held.pk).update(granted_at=NOW + timedelta(seconds=1))
    assert not facts_of(uid, machine).facts.local_checkout_held
    type(held).objects.filter(pk=held.pk).update(
        granted_at=NOW, revoked_at=NOW, revoke_reason="Unsafe"
    )
    assert not facts_of(uid, machine).facts.local_checkout_held
    type(held).objects.filter(pk=held.pk).update(revoked_at=NOW + timedelta(seconds=1))
    assert facts_of(uid, machine).facts.local_checkout_held
    MemberCheckoutFactory(member=ready_member(), checkout=checkout)
    type(held).objects.filter(pk=held.pk).delete()
    assert not facts_of(uid, machine).facts.local_checkout_held


def test_a_maintainer_of_this_machine(member, uid, machine):
    MachineFactory().maintainers.add(member.user)
    assert not facts_of(uid, machine).facts.is_maintainer
    machine.maintainers.add(member.user)
    assert facts_of(uid, machine).facts.is_maintainer


@pytest.mark.parametrize(
    ("roles", "superuser", "teaches"),
    [
        ([], False, True),  # no role anywhere: the default location, where the machine is
        ([(Role.INSTRUCTOR, "here")], False, True),
        ([(Role.STAFF, "here")], False, True),
        ([(Role.INSTRUCTOR, None)], False, True),  # everywhere
        ([(Role.STAFF, None)], False, True),
        ([(Role.INSTRUCTOR, "there")], False, False),
        ([(Role.MAINTAINER, "here")], False, False),
        ([(Role.MAINTAINER, None)], False, False),
        ([(Role.INSTRUCTOR, "there")], True, True),
    ],
)
def test_an_instructor_of_the_machines_certification_where_they_teach(
    member, uid, roles, superuser, teaches
):
    from locations.models import default_location

    here, there = default_location(), LocationFactory()
    laser = certification("Laser")
    machine = MachineFactory(location=here, required_certification=laser)
    certify(member, laser)
    user = member.user
    user.is_superuser = superuser
    user.save()
    for role, where in roles:
        LocationRoleFactory(
            user=user, role=role, location={"here": here, "there": there}.get(where)
        )
    assert not facts_of(uid, machine).facts.is_instructor  # not an instructor of it yet
    certification("Other").instructors.add(user)
    assert not facts_of(uid, machine).facts.is_instructor
    laser.instructors.add(user)
    assert facts_of(uid, machine).facts.is_instructor is teaches


def test_with_no_role_an_instructor_teaches_at_the_default_location_only(member, uid):
    from locations.models import default_location

    default_location()
    laser = certification("Laser")
    laser.instructors.add(member.user)
    certify(member, laser)
    elsewhere = MachineFactory(location=LocationFactory(), required_certification=laser)
    assert not facts_of(uid, elsewhere).facts.is_instructor


@pytest.mark.parametrize(
    ("start", "end", "state", "covers"),
    [
        (NOW - timedelta(hours=1), NOW + timedelta(hours=1), BookingState.CONFIRMED, True),
        (NOW - timedelta(hours=1), NOW + timedelta(hours=1), BookingState.CHECKED_IN, True),
        (NOW + timedelta(minutes=10), NOW + timedelta(hours=1), BookingState.CONFIRMED, True),
        (NOW + timedelta(minutes=11), NOW + timedelta(hours=1), BookingState.CONFIRMED, False),
        (NOW - timedelta(hours=1), NOW, BookingState.CONFIRMED, False),
        (NOW - timedelta(hours=1), NOW + timedelta(hours=1), BookingState.CANCELLED, False),
        (NOW - timedelta(hours=1), NOW + timedelta(hours=1), BookingState.NO_SHOW, False),
    ],
)
def test_the_booking_covering_the_scan_from_when_check_in_opens(
    member, uid, machine, settings, start, end, state, covers
):
    settings.BOOKING_CHECK_IN_OPENS_MINUTES = 10
    booking = BookingFactory(machine=machine, member=member, start=start, end=end, state=state)
    BookingFactory(machine=MachineFactory(), member=member, start=start, end=end)
    BookingFactory(machine=machine, member=ready_member(), start=end, end=end + timedelta(hours=1))
    gathered = facts_of(uid, machine)
    assert gathered.facts.booking_end == (end if covers else None)
    assert gathered.booking_id == (booking.pk if covers else None)
    assert gathered.booking_confirmed is (covers and state == BookingState.CONFIRMED)


def test_the_earliest_covering_booking_is_the_one(member, uid, machine, settings):
    settings.BOOKING_CHECK_IN_OPENS_MINUTES = 10
    running = BookingFactory(
        machine=machine,
        member=member,
        start=NOW - timedelta(hours=1),
        end=NOW + timedelta(minutes=5),
    )
    BookingFactory(
        machine=machine,
        member=member,
        start=NOW + timedelta(minutes=5),
        end=NOW + timedelta(hours=1),
    )
    assert facts_of(uid, machine).booking_id == running.pk


@pytest.fixture
def visitor(db):
    """Someone with a badge, a signed waiver and no membership: a day pass is their standing."""
    member = ready_member()
    member.membership.delete()
    return member


EARLY = NOW.replace(hour=2)  # 02:00 UTC on 10 June: still the 9th in Los Angeles


@pytest.mark.parametrize(
    ("zone", "at", "day", "until"),
    [
        # 18:00 UTC on 10 June is 11:00 the same day in Los Angeles, 03:00 on the 11th in Tokyo.
        ("America/Los_Angeles", NOW, date(2026, 6, 10), datetime(2026, 6, 11, 7, tzinfo=UTC)),
        ("America/Los_Angeles", NOW, date(2026, 6, 11), None),
        ("America/Los_Angeles", NOW, date(2026, 6, 9), None),
        ("Asia/Tokyo", NOW, date(2026, 6, 11), datetime(2026, 6, 11, 15, tzinfo=UTC)),
        ("Asia/Tokyo", NOW, date(2026, 6, 10), None),
        ("Pacific/Kiritimati", NOW, date(2026, 6, 11), datetime(2026, 6, 11, 10, tzinfo=UTC)),
        ("Pacific/Pago_Pago", NOW, date(2026, 6, 10), datetime(2026, 6, 11, 11, tzinfo=UTC)),
        ("America/Los_Angeles", EARLY, date(2026, 6, 9), datetime(2026, 6, 10, 7, tzinfo=UTC)),
        ("America/Los_Angeles", EARLY, date(2026, 6, 10), None),
    ],
)
def test_a_day_pass_opens_the_machine_on_its_local_day(visitor, zone, at, day, until):
    machine = MachineFactory(location=LocationFactory(time_zone=zone))
    DayPassFactory(holder=visitor, day=day, product=DayPassProductFactory(machines=[machine]))
    assert facts_of(visitor.badges.get().uid, machine, at=at).facts.day_pass_until == until


def test_a_day_pass_opens_only_what_it_names_where_it_names_and_only_when_paid(visitor):
    here, there = LocationFactory(time_zone="UTC"), LocationFactory(time_zone="UTC")
    laser = certification("Laser")
    named = MachineFactory(location=here)
    of_the_class = MachineFactory(location=here, required_certification=laser)
    elsewhere = MachineFactory(location=there, required_certification=laser)
    unnamed = MachineFactory(location=here)
    product = DayPassProductFactory(machines=[named], certifications=[laser], locations=[here])
    day_pass = DayPassFactory(holder=visitor, day=NOW.date(), product=product)
    uid = visitor.badges.get().uid
    until = datetime(2026, 6, 11, tzinfo=UTC)
    assert [facts_of(uid, m).facts.day_pass_until for m in (named, of_the_class)] == [until] * 2
    assert [facts_of(uid, m).facts.day_pass_until for m in (elsewhere, unnamed)] == [None] * 2
    assert reason_of(uid, unnamed) is Reason.MEMBERSHIP_INACTIVE
    DayPassFactory(holder=ready_member(), day=NOW.date(), product=DayPassProductFactory())
    type(day_pass).objects.filter(pk=day_pass.pk).update(state="refunded")
    assert facts_of(uid, named).facts.day_pass_until is None


def test_a_member_in_good_standing_is_not_asked_about_day_passes(member, uid):
    machine = MachineFactory(location=LocationFactory(time_zone="UTC"))
    DayPassFactory(holder=member, day=NOW.date(), product=DayPassProductFactory(machines=[machine]))
    assert facts_of(uid, machine).facts.day_pass_until is None
    plan = member.membership.plan
    plan.all_locations = False
    plan.save()  # in good standing, but not here: the pass is asked about
    assert facts_of(uid, machine).facts.day_pass_until == datetime(2026, 6, 11, tzinfo=UTC)
    plan.all_locations = True
    plan.save()
    member.membership.status = MembershipStatus.CANCELED
    member.membership.save()
    assert facts_of(uid, machine).facts.day_pass_until == datetime(2026, 6, 11, tzinfo=UTC)


@pytest.mark.parametrize("known", [True, False])
def test_a_gate_request_is_decided_only_through_the_gate_as_it_was_read(
    member, uid, machine, known
):
    """A bridge caches gates: the statement confirms the gate is still enabled, on the same
    machine, with the same secret, whoever's badge it is."""
    device = GateDeviceFactory(machine=machine)
    uid = uid if known else "DEADBEEF"

    def gathered(**changes):
        type(device).objects.filter(pk=device.pk).update(**changes)
        return facts_of(uid, machine, device=device, request_nonce="n-1")

    assert gathered().gate_current
    assert not gathered(enabled=False, disabled_reason="Stolen").gate_current
    assert not gathered(enabled=True, disabled_reason="", machine=MachineFactory()).gate_current
    assert not gathered(machine=machine, secret="a-new-secret-0123456789abcdef").gate_current
    assert gathered(secret=device.secret).gate_current
    # Not the gate's request (no nonce): a scan the staff check names the gate of.
    type(device).objects.filter(pk=device.pk).update(enabled=False, disabled_reason="Stolen")
    assert facts_of(uid, machine, device=device).gate_current


@pytest.mark.parametrize("known", [True, False])
def test_a_request_in_the_access_log_already_is_answered(member, uid, machine, known):
    device, other = GateDeviceFactory(machine=machine), GateDeviceFactory(machine=machine)
    uid = uid if known else "DEADBEEF"
    AccessEventFactory(device=other, machine=machine, request_nonce="n-1")
    assert not facts_of(uid, machine, device=device, request_nonce="n-1").answered
    AccessEventFactory(device=device, machine=machine, request_nonce="n-1")
    assert facts_of(uid, machine, device=device, request_nonce="n-1").answered
    assert not facts_of(uid, machine, device=device, request_nonce="n-2").answered


def test_a_changed_gate_or_an_answered_request_is_not_decided(member, uid, machine):
    device = GateDeviceFactory(machine=machine)
    scan = Scan(badge_uid=uid, machine=machine, at=NOW, device=device, request_nonce="n-1")
    [first] = access_decide_many([scan], source=AccessSource.GATE)
    assert first is not None and first.event.request_nonce == "n-1"
    assert access_decide_many([scan], source=AccessSource.GATE) == [None]
    type(device).objects.filter(pk=device.pk).update(enabled=False, disabled_reason="Stolen")
    fresh = Scan(badge_uid=uid, machine=machine, at=NOW, device=device, request_nonce="n-2")
    assert access_decide_many([fresh], source=AccessSource.GATE) == [None]
    assert device.access_events.count() == 1


@pytest.mark.parametrize(("scans", "statements"), [(1000, 1), (1001, 2)])
def test_a_thousand_scans_go_in_one_statement(member, uid, machine, scans, statements):
    """SQLite takes 32,766 parameters a statement: more scans than a thousand take another."""
    batch = [Scan(badge_uid=uid, machine=machine, at=NOW) for _ in range(scans)]
    with CaptureQueriesContext(connection) as queries:
        gathered = gather_facts_many(batch)
    assert len(queries) == statements
    assert len(gathered) == scans and all(g.member_id == member.pk for g in gathered)


def test_many_scans_keep_their_order_and_their_own_facts(member, uid, machine):
    laser = certification("Laser")
    certified_machine = MachineFactory(required_certification=laser)
    stranger = Scan(badge_uid="DEADBEEF", machine=machine, at=NOW)
    scans = [
        Scan(badge_uid=uid, machine=certified_machine, at=NOW),
        stranger,
        Scan(badge_uid=uid, machine=machine, at=NOW),
    ]
    gathered = gather_facts_many(scans)
    assert [g.facts.badge_known for g in gathered] == [True, False, True]
    assert [g.facts.certified for g in gathered] == [False, False, True]
    assert (gathered[1].facts, gathered[1].member_id, gathered[1].booking_id) == (
        AccessFacts(at=NOW),
        None,
        None,
    )
    assert gather_facts_many([]) == []
