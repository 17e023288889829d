"""Two members racing for the last seat, on real PostgreSQL connections in two threads."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.concurrency import at_once
from tests.factories.membership import MembershipFactory
from tests.factories.training import ClassSessionFactory, MemberCertificationFactory
from training import services
from training.models import EnrollmentStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(session, members) -> list:
    """Each member enrolls from its own thread (own connection), released at the same moment."""
    return at_once(
        *[
            lambda member=member: services.enrollment_create(member=member, session=session).status
            for member in members
        ]
    )


@pytest.mark.parametrize("round_", range(5))
def test_two_members_taking_the_last_seat_one_gets_it_the_other_is_waitlisted(safety, round_):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks between real connections")
    session = ClassSessionFactory(certification=safety, capacity=1)
    members = [MembershipFactory().member for _ in range(2)]

    results = _race(session, members)

    assert sorted(results) == [EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED]
    assert session.enrollments.filter(status=EnrollmentStatus.ENROLLED).count() == 1


def test_the_same_member_twice_at_once_gets_one_enrollment(laser):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks between real connections")
    session = ClassSessionFactory(certification=laser, capacity=3)
    member = MembershipFactory().member
    MemberCertificationFactory(member=member, certification=laser.prerequisites.get())

    results = _race(session, [member, member])

    statuses = [r for r in results if isinstance(r, str)]
    refusals = [r for r in results if not isinstance(r, str)]
    assert statuses == [EnrollmentStatus.ENROLLED]
    assert [r.message for r in refusals] == ["You are already enrolled in this class."]
    assert session.enrollments.count() == 1
