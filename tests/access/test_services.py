"""The access service: every caller's decision is gathered from the database and logged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.facts import Scan
from access.models import AccessEvent, AccessSource
from access.policy import Reason
from access.services import access_decide, access_decide_many
from bookings.models import BookingState
from equipment.models import MachineState
from membership import services as membership_services
from membership.models import WaiverSignature
from tests.factories.equipment import MachineFactory, certify
from tests.factories.membership import UserFactory, ready_member
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
    assert len(every_scan) <= len(one_scan) + 4  # plus the booking's one check-in
    assert AccessEvent.objects.filter(source=AccessSource.GATE).count() == len(expected)
    scene.booking.refresh_from_db()
    assert scene.booking.state == BookingState.CHECKED_IN
    assert {r.event.pk for r in results} == set(
        AccessEvent.objects.filter(source=AccessSource.GATE).values_list("pk", flat=True)
    )
