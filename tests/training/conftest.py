"""Training fixtures: a foundation certification, a machine certification needing it, a class."""

from __future__ import annotations

import pytest

from membership import roles
from tests.factories.membership import MembershipFactory, UserFactory
from tests.factories.training import (
    CertificationFactory,
    ClassSessionFactory,
    MemberCertificationFactory,
)


@pytest.fixture
def instructor(db):
    return UserFactory(role=roles.INSTRUCTOR, first_name="Ida", last_name="Instructor")


@pytest.fixture
def safety(db, instructor):
    return CertificationFactory(
        name="General shop safety", validity_months=24, instructors=[instructor]
    )


@pytest.fixture
def laser(db, safety, instructor):
    return CertificationFactory(
        name="Laser cutter", validity_months=12, prerequisites=[safety], instructors=[instructor]
    )


@pytest.fixture
def laser_class(laser, instructor):
    return ClassSessionFactory(certification=laser, instructor=instructor, capacity=2)


@pytest.fixture
def make_member(db):
    """A member in good standing; `certified=[...]` grants those certifications now."""

    def _make(certified=()):
        member = MembershipFactory().member
        for certification in certified:
            MemberCertificationFactory(member=member, certification=certification)
        return member

    return _make


@pytest.fixture
def safe_member(make_member, safety):
    """A member who holds General shop safety, so may take the laser class."""
    return make_member(certified=[safety])


# Stripe billing against the fake Stripe API, and signed webhook delivery (class fees).
from tests.membership.conftest import deliver, stripe_api  # noqa: E402, F401
