"""Training rules: enrolling, waitlists, cancelling, signing off, rosters, revoking, requests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.utils import timezone, translation

from core.errors import DuplicateSubmission
from membership import roles
from tests.factories.membership import UserFactory
from tests.factories.training import (
    CertificationFactory,
    ClassSessionFactory,
    EnrollmentFactory,
    MemberCertificationFactory,
)
from training import selectors, services
from training.errors import EnrollmentRejected, SignOffRejected, TrainingError
from training.models import (
    Enrollment,
    EnrollmentStatus,
    MemberCertification,
    Outcome,
    TrainingRequest,
)

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


# --- Enrolling --------------------------------------------------------------------------------


def _fill(session, make_member, safety, seats):
    for _ in range(seats):
        EnrollmentFactory(session=session, member=make_member(certified=[safety]))


def _nothing(session, member, ctx):
    pass


def _full(session, member, ctx):
    _fill(session, ctx["make_member"], ctx["safety"], session.capacity)


def _enrolled(session, member, ctx):
    EnrollmentFactory(session=session, member=member)


def _waitlisted(session, member, ctx):
    EnrollmentFactory(session=session, member=member, status=EnrollmentStatus.WAITLISTED)


def _cancelled_before(session, member, ctx):
    EnrollmentFactory(session=session, member=member, status=EnrollmentStatus.CANCELLED)


def _past(session, member, ctx):
    session.start = timezone.now() - timedelta(hours=1)
    session.end = session.start + timedelta(hours=2)
    session.save()


def _class_cancelled(session, member, ctx):
    session.cancelled_at = timezone.now()
    session.cancel_reason = "Instructor ill"
    session.save()


def _no_prerequisite(session, member, ctx):
    member.certifications.all().update(revoked_at=timezone.now(), revoke_reason="test")


def _teaches_it(session, member, ctx):
    session.instructor = member.user
    session.save()


def _certified(session, member, ctx):
    MemberCertificationFactory(member=member, certification=session.certification)


def _certified_expiring(session, member, ctx):
    MemberCertificationFactory(
        member=member,
        certification=session.certification,
        granted_at=timezone.now() - relativedelta(months=12) + timedelta(days=10),
        expires_at=timezone.now() + timedelta(days=10),
    )


@pytest.mark.parametrize(
    ("setup", "outcome"),
    [
        (_nothing, EnrollmentStatus.ENROLLED),
        (_full, EnrollmentStatus.WAITLISTED),
        (_cancelled_before, EnrollmentStatus.ENROLLED),
        (_certified_expiring, EnrollmentStatus.ENROLLED),
        (_enrolled, "You are already enrolled in this class."),
        (_waitlisted, "You are already on the waitlist of this class (position 1)."),
        (_past, "This class has already started; pick an upcoming one."),
        (_class_cancelled, "This class was cancelled: Instructor ill"),
        (_no_prerequisite, "Laser cutter needs General shop safety first."),
        (_teaches_it, "You teach this class; you cannot enroll in it."),
        (_certified, "You already hold Laser cutter until"),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_enrollment_rules(laser_class, safe_member, make_member, safety, setup, outcome):
    """Each situation either seats the member, waitlists them, or is refused with a clear
    sentence and no enrollment changed."""
    setup(laser_class, safe_member, {"make_member": make_member, "safety": safety})
    before = list(Enrollment.objects.order_by("pk").values_list("pk", "status"))
    if outcome in EnrollmentStatus.values:
        enrollment = services.enrollment_create(member=safe_member, session=laser_class)
        assert enrollment.status == outcome
    else:
        with pytest.raises(EnrollmentRejected) as refused:
            services.enrollment_create(member=safe_member, session=laser_class)
        assert refused.value.message.startswith(outcome)
        assert list(Enrollment.objects.order_by("pk").values_list("pk", "status")) == before


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "Laser cutter needs General shop safety first. Take that class before this one."),
        (
            "ko",
            "Laser cutter 인증을 받으려면 먼저 General shop safety 인증이 필요합니다. "
            "이 교육 전에 그 교육을 받아 주세요.",
        ),
    ],
)
def test_a_refusal_reads_in_the_active_language(
    laser_class, safe_member, make_member, safety, language, sentence
):
    """A member refused while Korean is active reads the whole sentence in Korean, the
    certifications' names filled in where Korean puts them."""
    _no_prerequisite(laser_class, safe_member, {"make_member": make_member, "safety": safety})
    with translation.override(language), pytest.raises(EnrollmentRejected) as refused:
        services.enrollment_create(member=safe_member, session=laser_class)
    assert refused.value.message == sentence


def test_double_submitted_enroll_form_enrolls_once(laser_class, safe_member):
    token = uuid.uuid4()
    services.enrollment_create(member=safe_member, session=laser_class, token=token)
    with pytest.raises(DuplicateSubmission):
        services.enrollment_create(member=safe_member, session=laser_class, token=token)
    assert laser_class.enrollments.count() == 1


def test_a_seat_fulfils_the_members_training_request(laser_class, safe_member, laser):
    services.training_request_create(member=safe_member, certification=laser)
    services.enrollment_create(member=safe_member, session=laser_class)
    assert not selectors.member_open_requests(safe_member).exists()


def test_waitlist_positions_follow_the_order_of_arrival(laser_class, make_member, safety):
    _fill(laser_class, make_member, safety, laser_class.capacity)
    first, second = (make_member(certified=[safety]) for _ in range(2))
    a = services.enrollment_create(member=first, session=laser_class)
    b = services.enrollment_create(member=second, session=laser_class)
    assert (selectors.waitlist_position(a), selectors.waitlist_position(b)) == (1, 2)


# --- Cancelling and the waitlist ----------------------------------------------------------------


def test_cancelling_a_seat_promotes_the_first_on_the_waitlist_and_tells_them(
    laser_class, make_member, safety, django_capture_on_commit_callbacks
):
    seated = [make_member(certified=[safety]) for _ in range(2)]
    enrollments = [services.enrollment_create(member=m, session=laser_class) for m in seated]
    first, second = (make_member(certified=[safety]) for _ in range(2))
    waiting = services.enrollment_create(member=first, session=laser_class)
    later = services.enrollment_create(member=second, session=laser_class)

    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_cancel(enrollment=enrollments[0], actor=seated[0].user)

    waiting.refresh_from_db()
    later.refresh_from_db()
    assert waiting.status == EnrollmentStatus.ENROLLED
    assert waiting.promoted_at is not None and waiting.promotion_notified_at is not None
    assert later.status == EnrollmentStatus.WAITLISTED
    assert selectors.waitlist_position(later) == 1
    assert [m.to for m in mail.outbox] == [[first.user.email]]
    assert "A seat opened up and it is yours" in mail.outbox[0].body


def test_leaving_the_waitlist_promotes_nobody(laser_class, make_member, safety):
    _fill(laser_class, make_member, safety, laser_class.capacity)
    member = make_member(certified=[safety])
    waiting = services.enrollment_create(member=member, session=laser_class)
    services.enrollment_cancel(enrollment=waiting, actor=member.user)
    assert laser_class.enrollments.filter(status=EnrollmentStatus.ENROLLED).count() == 2
    assert not Enrollment.objects.filter(promoted_at__isnull=False).exists()


def _own(enrollment, ctx):
    return enrollment.member.user


def _someone_else(enrollment, ctx):
    return ctx["make_member"]().user


def _staff(enrollment, ctx):
    return UserFactory(role=roles.STAFF)


def _instructor_of_another_class(enrollment, ctx):
    return UserFactory(role=roles.INSTRUCTOR)


@pytest.mark.parametrize(
    ("actor", "state", "refusal"),
    [
        (_own, "upcoming", None),
        (_staff, "upcoming", None),
        (_someone_else, "upcoming", "You can only cancel your own enrollment."),
        (_instructor_of_another_class, "upcoming", "You can only cancel your own enrollment."),
        (_own, "already_cancelled", "This enrollment is already cancelled."),
        (_own, "started", "The class has started; the enrollment can't be cancelled."),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_cancel_rules(laser_class, safe_member, make_member, actor, state, refusal):
    enrollment = EnrollmentFactory(session=laser_class, member=safe_member)
    if state == "already_cancelled":
        Enrollment.objects.filter(pk=enrollment.pk).update(status=EnrollmentStatus.CANCELLED)
    if state == "started":
        laser_class.start = timezone.now() - timedelta(minutes=5)
        laser_class.save()
    user = actor(enrollment, {"make_member": make_member})
    before = Enrollment.objects.get(pk=enrollment.pk).status
    if refusal is None:
        cancelled = services.enrollment_cancel(enrollment=enrollment, actor=user)
        assert cancelled.status == EnrollmentStatus.CANCELLED
        assert cancelled.cancelled_by == user
    else:
        with pytest.raises(TrainingError) as refused:
            services.enrollment_cancel(enrollment=enrollment, actor=user)
        assert refused.value.message == refusal
        assert Enrollment.objects.get(pk=enrollment.pk).status == before


# --- Signing off --------------------------------------------------------------------------------


def _the_instructor(member, ctx):
    return ctx["instructor"]


def _other_instructor(member, ctx):
    return UserFactory(role=roles.INSTRUCTOR)


def _training_staff(member, ctx):
    return UserFactory(role=roles.STAFF)


def _plain_member(member, ctx):
    return ctx["make_member"]().user


def _themselves(member, ctx):
    ctx["laser"].instructors.add(member.user)
    member.user.groups.add(*UserFactory(role=roles.INSTRUCTOR).groups.all())
    return member.user


@pytest.mark.parametrize(
    ("signer", "has_prerequisite", "note", "refusal"),
    [
        (_the_instructor, True, "Supervised two cuts", None),
        (_training_staff, True, "Checked at the desk", None),
        (_the_instructor, False, "Supervised", "Laser cutter needs General shop safety first"),
        (_the_instructor, True, "  ", "Say how you checked the member"),
        (_other_instructor, True, "x", "Only an instructor of Laser cutter or training staff"),
        (_plain_member, True, "x", "Only an instructor of Laser cutter or training staff"),
        (_themselves, True, "x", "Nobody can certify themselves"),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
@time_machine.travel(NOW, tick=False)
def test_one_to_one_sign_off_rules(
    laser, safety, instructor, make_member, signer, has_prerequisite, note, refusal
):
    member = make_member(certified=[safety] if has_prerequisite else [])
    actor = signer(member, {"instructor": instructor, "make_member": make_member, "laser": laser})
    if refusal is None:
        grant = services.certification_grant(
            member=member, certification=laser, actor=actor, note=note
        )
        assert (grant.granted_by, grant.granted_at, grant.note) == (actor, NOW, note)
        assert grant.expires_at == NOW + relativedelta(months=12)
        assert selectors.member_holds_certification(member=member, certification=laser, at=NOW)
    else:
        with pytest.raises(TrainingError) as refused:
            services.certification_grant(member=member, certification=laser, actor=actor, note=note)
        assert refused.value.message.startswith(refusal)
        assert not MemberCertification.objects.filter(certification=laser).exists()


@time_machine.travel(NOW, tick=False)
def test_a_certification_without_validity_never_expires(safety, instructor, make_member):
    printer = CertificationFactory(
        name="3D printer", validity_months=None, prerequisites=[safety], instructors=[instructor]
    )
    member = make_member(certified=[safety])
    grant = services.certification_grant(
        member=member, certification=printer, actor=instructor, note="Watched a print"
    )
    assert grant.expires_at is None
    assert selectors.member_holds_certification(
        member=member, certification=printer, at=NOW + relativedelta(years=20)
    )


def _started_class(laser, instructor):
    return ClassSessionFactory(
        certification=laser,
        instructor=instructor,
        start=timezone.now() - timedelta(hours=2),
        capacity=3,
    )


def test_roster_pass_grants_the_certification_with_its_session(
    laser, instructor, make_member, safety
):
    session = _started_class(laser, instructor)
    passed, failed, absent = (
        EnrollmentFactory(session=session, member=make_member(certified=[safety])) for _ in range(3)
    )
    grants = services.roster_record(
        session=session,
        outcomes={passed.pk: Outcome.PASSED, failed.pk: Outcome.FAILED, absent.pk: Outcome.ABSENT},
        actor=instructor,
    )
    assert [(g.member, g.session, g.granted_by) for g in grants] == [
        (passed.member, session, instructor)
    ]
    outcomes = dict(session.enrollments.values_list("pk", "outcome"))
    assert outcomes == {passed.pk: "passed", failed.pk: "failed", absent.pk: "absent"}
    assert not MemberCertification.objects.filter(member=failed.member, certification=laser)


def test_roster_is_all_or_nothing(laser, instructor, make_member, safety):
    """One attendee lacking the prerequisite: no pass is recorded for anyone."""
    session = _started_class(laser, instructor)
    ready = EnrollmentFactory(session=session, member=make_member(certified=[safety]))
    unready = EnrollmentFactory(session=session, member=make_member())
    with pytest.raises(SignOffRejected, match="needs General shop safety first"):
        services.roster_record(
            session=session,
            outcomes={ready.pk: Outcome.PASSED, unready.pk: Outcome.PASSED},
            actor=instructor,
        )
    assert not MemberCertification.objects.filter(certification=laser).exists()
    assert set(session.enrollments.values_list("outcome", flat=True)) == {Outcome.PENDING}


@pytest.mark.parametrize(
    ("situation", "refusal"),
    [
        ("not_started", "Attendance can be marked once the class has started."),
        ("stranger", "Only an instructor of Laser cutter or training staff can sign off."),
        ("other_session", "That person does not have a seat in this class."),
        ("unpass", "already passed; revoke the certification instead"),
    ],
)
def test_roster_refusals(laser, instructor, make_member, safety, situation, refusal):
    session = _started_class(laser, instructor)
    enrollment = EnrollmentFactory(session=session, member=make_member(certified=[safety]))
    actor, outcomes = instructor, {enrollment.pk: Outcome.PASSED}
    if situation == "not_started":
        session.start = timezone.now() + timedelta(hours=1)
        session.end = session.start + timedelta(hours=1)
        session.save()
    if situation == "stranger":
        actor = UserFactory(role=roles.INSTRUCTOR)
    if situation == "other_session":
        outcomes = {EnrollmentFactory(member=make_member(certified=[safety])).pk: Outcome.PASSED}
    if situation == "unpass":
        services.roster_record(session=session, outcomes=outcomes, actor=instructor)
        outcomes = {enrollment.pk: Outcome.FAILED}
    grants_before = MemberCertification.objects.count()
    with pytest.raises(TrainingError) as refused:
        services.roster_record(session=session, outcomes=outcomes, actor=actor)
    assert refusal in refused.value.message
    assert MemberCertification.objects.count() == grants_before


# --- Revoking ---------------------------------------------------------------------------------


def test_revoke_keeps_the_record_and_tells_the_gate(laser, instructor, safe_member, gate_calls):
    grant = MemberCertificationFactory(member=safe_member, certification=laser)
    services.certification_revoke(
        grant=grant, reason="Left the laser running unattended", actor=instructor
    )
    grant.refresh_from_db()
    assert (grant.revoked_by, grant.revoke_reason) == (
        instructor,
        "Left the laser running unattended",
    )
    assert [(kw["member"], kw["reason"]) for _, kw in gate_calls] == [
        (safe_member, "certification_revoked")
    ]
    assert not selectors.member_holds_certification(
        member=safe_member, certification=laser, at=timezone.now()
    )
    assert list(selectors.member_grant_history(safe_member).filter(certification=laser)) == [grant]


@pytest.mark.parametrize(
    ("situation", "refusal"),
    [
        ("no_reason", "Say why the certification is revoked"),
        ("twice", "This certification is already revoked."),
        ("member", "Only an instructor of Laser cutter or training staff can revoke it."),
    ],
)
def test_revoke_refusals(laser, instructor, safe_member, make_member, situation, refusal):
    grant = MemberCertificationFactory(member=safe_member, certification=laser)
    actor, reason = instructor, "Unsafe use"
    if situation == "no_reason":
        reason = "   "
    if situation == "twice":
        services.certification_revoke(grant=grant, reason="First", actor=instructor)
    if situation == "member":
        actor = make_member().user
    before = MemberCertification.objects.values("revoked_at", "revoke_reason").get(pk=grant.pk)
    with pytest.raises(TrainingError) as refused:
        services.certification_revoke(grant=grant, reason=reason, actor=actor)
    assert refused.value.message.startswith(refusal)
    assert MemberCertification.objects.values("revoked_at", "revoke_reason").get(pk=grant.pk) == (
        before
    )


# --- Requests for training ----------------------------------------------------------------------


def test_requesting_training_twice_is_refused(laser, safe_member):
    services.training_request_create(member=safe_member, certification=laser)
    with pytest.raises(TrainingError, match="You asked for Laser cutter on"):
        services.training_request_create(member=safe_member, certification=laser)
    assert TrainingRequest.objects.count() == 1


def test_a_certified_member_cannot_request_training(laser, safe_member):
    MemberCertificationFactory(member=safe_member, certification=laser)
    with pytest.raises(TrainingError, match="You already hold Laser cutter"):
        services.training_request_create(member=safe_member, certification=laser)


def test_demand_queue_counts_open_requests_since_the_oldest(laser, safety, make_member):
    with time_machine.travel(NOW - timedelta(days=9), tick=False):
        services.training_request_create(member=make_member(), certification=laser)
    with time_machine.travel(NOW - timedelta(days=2), tick=False):
        services.training_request_create(member=make_member(), certification=laser)
    with time_machine.travel(NOW, tick=False):
        rows = {row.certification: row for row in selectors.training_demand(at=NOW)}
    assert (rows[laser].waiting, rows[laser].waiting_since) == (2, NOW - timedelta(days=9))
    assert rows[safety].waiting == 0
    assert selectors.training_demand(at=NOW)[0].certification == laser
