"""Free seats read the same on every page and in every service: capacity minus seats taken,
never below zero (staff may lower a class's capacity under the number already enrolled)."""

from __future__ import annotations

from django.utils import timezone

from tests.factories.membership import MemberFactory
from tests.factories.training import ClassSessionFactory, EnrollmentFactory
from training import selectors, services
from training.models import EnrollmentStatus


def _class_of(capacity: int, *, enrolled: int):
    session = ClassSessionFactory(capacity=capacity)
    EnrollmentFactory.create_batch(enrolled, session=session)
    EnrollmentFactory(session=session, status=EnrollmentStatus.WAITLISTED)
    return session


def test_free_seats_count_only_enrolled_members(db):
    session = _class_of(4, enrolled=1)
    listed = selectors.sessions_with_seats().get(pk=session.pk)
    assert (listed.seats_taken, listed.seats_free, listed.waitlisted) == (1, 3, 1)
    assert selectors.session_seats_free(session) == 3


def test_a_class_over_capacity_has_no_free_seats_not_minus_one(db):
    session = _class_of(2, enrolled=3)
    assert selectors.sessions_with_seats().get(pk=session.pk).seats_free == 0
    assert selectors.session_seats_free(session) == 0
    (row,) = [
        r
        for r in selectors.training_demand(at=timezone.now())
        if r.certification == session.certification
    ]
    assert row.free_seats == 0


def test_a_newcomer_to_a_class_over_capacity_joins_the_waitlist(db):
    session = _class_of(2, enrolled=3)
    enrollment = services.enrollment_create(member=MemberFactory(), session=session)
    assert enrollment.status == EnrollmentStatus.WAITLISTED


def test_a_cancelled_seat_over_capacity_promotes_nobody(db):
    """Three enrolled in a class now for two: one leaving still leaves it full."""
    session = _class_of(2, enrolled=3)
    leaving = session.enrollments.filter(status=EnrollmentStatus.ENROLLED).first()
    services.enrollment_cancel(enrollment=leaving, actor=leaving.member.user)
    assert session.enrollments.filter(status=EnrollmentStatus.WAITLISTED).count() == 1
