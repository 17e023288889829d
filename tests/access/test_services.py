"""The access service: every caller's decision is gathered from the database and logged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.facts import Scan
from access.gates import gate_emergency_clear, gate_emergency_stop
from access.models import AccessEvent, AccessSource
from access.policy import Reason
from access.services import access_decide, access_decide_many
from bookings.models import BookingState
from equipment.models import MachineState
from membership import services as membership_services
from membership.models import Badge, WaiverSignature
from tests.factories.access import GateDeviceFactory, UsageSessionFactory
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.membership import BadgeFactory, MemberFactory, UserFactory, ready_member
from training.models import MemberCertification


def test_booked_certified_member_is_allowed_until_the_booking_ends(scene):
    result = access_decide(
        badge_uid=scene.badge_uid, machine=scene.machine, source=AccessSource.GATE
    )
    assert result.decision.reason is Reason.ALLOWED_BOOKING
    assert result.decision.grant_end == scene.booking.end
    assert result.decision.member_name == scene.member.display_name
    event = AccessEvent.objects.get()
    assert (event.allowed, event.reason, event.member, event.booking) == (
        True,
        "allowed_booking",
        scene.member,
        scene.booking,
    )
    assert event.decision_microseconds > 0


def test_first_allowed_gate_scan_checks_the_booking_in(scene):
    access_decide(badge_uid=scene.badge_uid, machine=scene.machine, source=AccessSource.GATE)
    scene.booking.refresh_from_db()
    assert scene.booking.state == BookingState.CHECKED_IN


def test_staff_web_check_does_not_check_in(scene):
    access_decide(badge_uid=scene.badge_uid, machine=scene.machine, source=AccessSource.WEB)
    scene.booking.refresh_from_db()
    assert scene.booking.state == BookingState.CONFIRMED


def test_badge_in_another_reader_format_is_recognised(scene):
    uid = scene.badge_uid
    spaced = ":".join(uid[i : i + 2] for i in range(0, len(uid), 2)).lower()
    assert access_decide(
        badge_uid=spaced, machine=scene.machine, source=AccessSource.GATE
    ).decision.allowed


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("unknown", Reason.UNKNOWN_BADGE),
        ("garbage", Reason.UNKNOWN_BADGE),
        ("disable_badge", Reason.BADGE_DISABLED),
        ("cancel_membership", Reason.MEMBERSHIP_INACTIVE),
        ("out_of_service", Reason.MACHINE_OUT_OF_SERVICE),
        ("revoke_certification", Reason.CERTIFICATION_EXPIRED),
        ("expire_certification", Reason.CERTIFICATION_EXPIRED),
        ("no_certification", Reason.NOT_CERTIFIED),
        ("cancel_booking", Reason.NO_BOOKING_NOW),
    ],
)
def test_refusals_from_the_database(scene, change, reason):
    uid = scene.badge_uid
    now = timezone.now()
    if change == "unknown":
        uid = "DEADBEEF"
    elif change == "garbage":
        uid = "'; DROP TABLE badges; --"
    elif change == "disable_badge":
        scene.member.badges.update(enabled=False, disabled_reason="Lost")
    elif change == "cancel_membership":
        scene.member.membership.status = "canceled"
        scene.member.membership.save()
    elif change == "out_of_service":
        scene.machine.state = MachineState.OUT_OF_SERVICE
        scene.machine.save()
    elif change == "revoke_certification":
        MemberCertification.objects.update(revoked_at=now, revoke_reason="Unsafe use")
    elif change == "expire_certification":
        MemberCertification.objects.update(expires_at=now - timedelta(days=1))
    elif change == "no_certification":
        MemberCertification.objects.all().delete()
    elif change == "cancel_booking":
        scene.booking.state = BookingState.CANCELLED
        scene.booking.save()
    result = access_decide(badge_uid=uid, machine=scene.machine, source=AccessSource.GATE)
    assert result.decision.reason is reason and not result.decision.allowed
    assert result.decision.grant_end is None
    assert AccessEvent.objects.get().reason == reason.value


def test_maintainer_needs_no_booking_and_it_is_logged_as_such(db, settings):
    machine = MachineFactory()
    member = ready_member()
    machine.maintainers.add(member.user)
    result = access_decide(
        badge_uid=member.badges.get().uid, machine=machine, source=AccessSource.GATE
    )
    assert result.decision.reason is Reason.ALLOWED_MAINTAINER
    assert result.event.reason == "allowed_maintainer"
    grant = result.decision.grant_end - result.event.at
    assert grant == timedelta(minutes=settings.GATE_STAFF_GRANT_MINUTES)


def test_instructor_of_the_certification_needs_no_booking(scene):
    instructor = ready_member()
    scene.machine.required_certification.instructors.add(instructor.user)
    certify(instructor, scene.machine.required_certification)
    result = access_decide(
        badge_uid=instructor.badges.get().uid, machine=scene.machine, source=AccessSource.GATE
    )
    assert result.decision.reason is Reason.ALLOWED_INSTRUCTOR


def test_disabled_badge_with_uid_reissued_to_someone_else_decides_for_the_new_holder(scene):
    """A lost card re-issued to another member opens for the new holder only."""
    uid = scene.badge_uid
    badge = scene.member.badges.get()
    membership_services.badge_disable(badge=badge, reason="Lost", actor=UserFactory())
    other = ready_member()
    other.badges.all().delete()
    membership_services.badge_assign(member=other, uid=uid, actor=None)
    result = access_decide(badge_uid=uid, machine=scene.machine, source=AccessSource.GATE)
    assert result.decision.member_name == other.display_name
    assert result.decision.reason is Reason.NOT_CERTIFIED


def test_a_batch_decides_each_scan_as_alone_in_a_fixed_number_of_queries(scene):
    """A bridge answers a burst of scans in one round: every scan still gets its own answer."""
    now = timezone.now()
    laser, certificate = scene.machine, scene.machine.required_certification
    people = {name: ready_member() for name in ("instructor", "maintainer", "uncertified")}
    people |= {name: ready_member() for name in ("lapsed", "unpaid", "unbooked", "unsigned")}
    certificate.instructors.add(people["instructor"].user)
    laser.maintainers.add(people["maintainer"].user)
    for name in ("instructor", "maintainer", "lapsed", "unpaid", "unbooked", "unsigned"):
        certify(people[name], certificate, granted_at=now - timedelta(days=9))
    MemberCertification.objects.filter(member=people["lapsed"]).update(
        revoked_at=now - timedelta(days=1), revoke_reason="Unsafe use"
    )
    people["unpaid"].membership.status = "canceled"
    people["unpaid"].membership.save()
    WaiverSignature.objects.filter(member=people["unsigned"]).delete()
    broken = MachineFactory(state=MachineState.OUT_OF_SERVICE)
    badge = {name: member.badges.get().uid for name, member in people.items()}
    expected = [
        (scene.badge_uid, laser, Reason.ALLOWED_BOOKING),
        (scene.badge_uid, laser, Reason.ALLOWED_BOOKING),  # a second scan in the same round
        (badge["instructor"], laser, Reason.ALLOWED_INSTRUCTOR),
        (badge["maintainer"], laser, Reason.ALLOWED_MAINTAINER),
        (badge["uncertified"], laser, Reason.NOT_CERTIFIED),
        (badge["lapsed"], laser, Reason.CERTIFICATION_EXPIRED),
        (badge["unpaid"], laser, Reason.MEMBERSHIP_INACTIVE),
        (badge["unbooked"], laser, Reason.NO_BOOKING_NOW),
        (badge["unsigned"], laser, Reason.WAIVER_MISSING),
        (scene.badge_uid, broken, Reason.MACHINE_OUT_OF_SERVICE),
        ("DEADBEEF", laser, Reason.UNKNOWN_BADGE),
        ("not a badge", laser, Reason.UNKNOWN_BADGE),
    ]
    scans = [Scan(badge_uid=uid, machine=machine, at=now) for uid, machine, _ in expected]

    with CaptureQueriesContext(connection) as one_scan:
        access_decide_many(scans[:1], source=AccessSource.WEB)
    with CaptureQueriesContext(connection) as every_scan:
        results = access_decide_many(scans, source=AccessSource.GATE)

    assert [r.decision.reason for r in results] == [reason for _, _, reason in expected]
    # plus the booking's one check-in, with its webhook event (booking.checked_in), where the
    # instructor teaches (their location roles, the default location), and the look-up of day
    # passes for the unpaid member's scan (none held: one query)
    assert len(every_scan) <= len(one_scan) + 8
    assert AccessEvent.objects.filter(source=AccessSource.GATE).count() == len(expected)
    scene.booking.refresh_from_db()
    assert scene.booking.state == BookingState.CHECKED_IN
    assert {r.event.pk for r in results} == set(
        AccessEvent.objects.filter(source=AccessSource.GATE).values_list("pk", flat=True)
    )


def _decide(member_or_uid, machine, **kwargs):
    uid = member_or_uid if isinstance(member_or_uid, str) else member_or_uid.badges.get().uid
    return access_decide(badge_uid=uid, machine=machine, source=AccessSource.WEB, **kwargs)


def test_a_maintainer_repairs_an_out_of_service_machine_but_never_powers_a_retired_one(scene):
    """Out of service, the machine's (certified) maintainer may still switch it on to repair
    it; once retired, nobody does."""
    maintainer = ready_member()
    certify(maintainer, scene.machine.required_certification)
    scene.machine.maintainers.add(maintainer.user)
    scene.machine.state = MachineState.OUT_OF_SERVICE
    scene.machine.save()
    assert _decide(maintainer, scene.machine).decision.reason is Reason.ALLOWED_MAINTAINER
    scene.machine.state = MachineState.RETIRED
    scene.machine.save()
    assert _decide(maintainer, scene.machine).decision.reason is Reason.MACHINE_OUT_OF_SERVICE
    assert _decide(scene.member, scene.machine).decision.reason is Reason.MACHINE_OUT_OF_SERVICE


def test_an_emergency_stop_locks_its_machine_until_staff_clear_it(scene, staff_user):
    """Pressed, the stop refuses every scan on that machine, booked or not; another machine's
    stop, or one that was cleared, refuses nothing here."""
    other = MachineFactory(name="Lathe", slug="lathe")
    gate_emergency_stop(machine=other, actor=staff_user)
    assert _decide(scene.member, scene.machine).decision.allowed
    gate_emergency_stop(machine=scene.machine, actor=staff_user)
    assert _decide(scene.member, scene.machine).decision.reason is Reason.EMERGENCY_STOPPED
    gate_emergency_clear(machine=scene.machine, actor=staff_user, reason="Checked the laser")
    assert _decide(scene.member, scene.machine).decision.allowed


def test_a_session_running_for_another_member_keeps_the_machine_theirs(scene):
    """While another member's session runs (its grant not over), a scan is refused; the member
    running it may scan again, and an ended or expired session blocks nobody."""
    now = timezone.now()
    other = ready_member()
    device = GateDeviceFactory(machine=scene.machine)
    elsewhere = UsageSessionFactory(
        device=GateDeviceFactory(), member=other, ended_at=None, grant_end=now + timedelta(hours=1)
    )
    UsageSessionFactory(device=device, member=other, ended_at=None, grant_end=None)
    UsageSessionFactory(device=device, member=other, grant_end=now + timedelta(hours=1))
    assert elsewhere.machine != scene.machine
    assert _decide(scene.member, scene.machine, at=now).decision.allowed
    running = UsageSessionFactory(
        device=device, member=other, ended_at=None, grant_end=now + timedelta(minutes=20)
    )
    assert _decide(scene.member, scene.machine, at=now).decision.reason is Reason.MACHINE_IN_USE
    grant_over = running.grant_end
    assert _decide(scene.member, scene.machine, at=grant_over).decision.allowed
    running.member = scene.member
    running.save()
    assert _decide(scene.member, scene.machine, at=now).decision.allowed


def test_the_whole_certification_chain_is_needed(scene):
    """Laser cutter needs Laser safety, which needs General shop safety: a member missing one
    of them may not use it; one whose prerequisite was revoked reads "expired or revoked"."""
    laser = scene.machine.required_certification
    safety, shop = certification("Laser safety"), certification("General shop safety")
    laser.prerequisites.add(safety)
    safety.prerequisites.add(shop)
    shop.prerequisites.add(laser)  # a loop in staff's setup must not hang the decision
    assert not _decide(scene.member, scene.machine).decision.allowed
    certify(scene.member, safety)
    # Holds the laser and its safety class, never took the shop class: not "expired".
    assert _decide(scene.member, scene.machine).decision.reason is Reason.NOT_CERTIFIED
    grant = certify(scene.member, shop)
    assert _decide(scene.member, scene.machine).decision.allowed
    grant.revoked_at, grant.revoke_reason = timezone.now(), "Unsafe use"
    grant.save()
    assert _decide(scene.member, scene.machine).decision.reason is Reason.CERTIFICATION_EXPIRED
    # Another machine needing only Laser safety asks for General shop safety, not for itself.
    engraver = MachineFactory(required_certification=safety)
    assert _decide(scene.member, engraver).decision.reason is Reason.CERTIFICATION_EXPIRED


def test_a_member_without_a_membership_is_inactive(db):
    """A badge given to someone who never joined opens nothing."""
    member = MemberFactory()
    BadgeFactory(member=member)
    assert _decide(member, MachineFactory()).decision.reason is Reason.MEMBERSHIP_INACTIVE


def test_a_disabled_uid_names_its_latest_holder(scene):
    """A UID whose badges are all disabled is logged for the member who held it last; an
    enabled badge of the UID (one re-enabled in the admin) wins over later disabled ones."""
    uid = scene.badge_uid
    first = scene.member.badges.get()
    membership_services.badge_disable(badge=first, reason="Lost", actor=UserFactory())
    later = ready_member()
    later.badges.all().delete()
    membership_services.badge_assign(member=later, uid=uid, actor=None)
    membership_services.badge_disable(badge=later.badges.get(), reason="Lost", actor=UserFactory())
    Badge.objects.filter(pk=first.pk).update(issued_at=timezone.now() - timedelta(days=30))
    result = _decide(uid, scene.machine)
    assert result.decision.reason is Reason.BADGE_DISABLED
    assert result.event.member == later
    Badge.objects.filter(pk=first.pk).update(enabled=True, disabled_reason="")
    result = _decide(uid, scene.machine)
    assert result.decision.allowed and result.event.member == scene.member
