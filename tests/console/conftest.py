"""The scene of the report tests: a Los Angeles location and another, and hand-counted
bookings, memberships and training around the spring-forward change of 14 March 2027."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bookings.states import BookingState
from membership.models import MembershipStatus
from staffing.selectors import Scope
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory
from tests.factories.locations import LocationFactory, default_location_in
from tests.factories.membership import (
    MemberFactory,
    MembershipChangeFactory,
    MembershipFactory,
    PlanFactory,
    UserFactory,
)
from tests.factories.training import (
    CertificationFactory,
    ClassSessionFactory,
    EnrollmentFactory,
    TrainingRequestFactory,
)
from training.models import EnrollmentStatus, Outcome

LA = ZoneInfo("America/Los_Angeles")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def here(db):
    """The home location (Los Angeles), the report's scope, and another location's."""
    home = default_location_in(LA)
    elsewhere = LocationFactory(name="Elsewhere", slug="elsewhere", time_zone="America/New_York")
    scope = Scope(False, frozenset({home.pk}), home.pk)
    return home, elsewhere, scope


def member(name: str, **kwargs):
    """The member called `name` (one per name across the fixtures: Ann books and trains)."""
    email = f"{name}@x.org"
    found = MemberFactory._meta.model.objects.filter(user__email=email).first()
    if found is None:
        return MemberFactory(user=UserFactory(first_name=name, last_name="", email=email), **kwargs)
    for field, value in kwargs.items():
        setattr(found, field, value)
    found.save()
    return found


@pytest.fixture
def bookings(here):
    """The week Mon 8 to Sun 14 March 2027 (PST, then PDT from Sunday 03:00).

    Laser: Ann completed (Tue), Ann no-show Sun 23:30 PDT (06:30Z Monday: in the week), Ann
    cancelled late (Wed), Bob cancelled in good time (not counted), Bob no-show Mon 15 00:30 PDT
    (07:30Z: the next week, though 08:00Z would be the boundary in PST), Bob no-show Sun 7 Mar
    23:30 PST (the week before). Saw: Ann no-show (Thu). Elsewhere's drill: Bob no-show (Thu).
    """
    elsewhere = here[1]
    laser, saw = MachineFactory(name="Laser"), MachineFactory(name="Saw")
    drill = MachineFactory(name="Drill", location=elsewhere)
    ann, bob = member("Ann"), member("Bob")
    for machine, who, start, state in [
        (laser, ann, utc(2027, 3, 9, 18), BookingState.COMPLETED),
        (laser, ann, utc(2027, 3, 15, 6, 30), BookingState.NO_SHOW),
        (laser, ann, utc(2027, 3, 10, 18), BookingState.LATE_CANCELLED),
        (laser, bob, utc(2027, 3, 11, 18), BookingState.CANCELLED),
        (laser, bob, utc(2027, 3, 15, 7, 30), BookingState.NO_SHOW),
        (laser, bob, utc(2027, 3, 8, 7, 30), BookingState.NO_SHOW),
        (saw, ann, utc(2027, 3, 11, 18), BookingState.NO_SHOW),
        (drill, bob, utc(2027, 3, 11, 18), BookingState.NO_SHOW),
    ]:
        BookingFactory(machine=machine, member=who, start=start, state=state)


@pytest.fixture
def memberships(here):
    """January to April 2027 (hand-counted in the test). Dan joined in December, active with no
    history; Eve too, past due now; Fay elsewhere (never counted). Ann activates 10 Jan; Bea
    activates 5 Feb, falls past due 2 Mar and is cancelled Wed 31 Mar 23:30 PDT (06:30Z 1
    April: March's churn); Cal activates Thu 1 Apr 00:30 PDT (07:30Z: April's new member,
    though 08:00Z would be the PST midnight)."""
    elsewhere = here[1]
    monthly = PlanFactory(name="Monthly membership")
    student = PlanFactory(name="Student", monthly_price_cents=5000, is_default=False)
    joined = utc(2026, 12, 1)
    MembershipFactory(member=member("Dan", joined_at=joined), plan=student)
    MembershipFactory(member=member("Eve", joined_at=joined), plan=monthly, status=MembershipStatus.PAST_DUE,
                      current_period_end=utc(2027, 4, 10, 7))  # fmt: skip
    MembershipFactory(member=member("Fay", joined_at=joined, home_location=elsewhere), plan=monthly)
    steps = {
        "Ann": [("pending", "active", utc(2027, 1, 10))],
        "Bea": [("pending", "active", utc(2027, 2, 5)), ("active", "past_due", utc(2027, 3, 2)),
                ("past_due", "canceled", utc(2027, 4, 1, 6, 30))],
        "Cal": [("pending", "active", utc(2027, 4, 1, 7, 30))],
    }  # fmt: skip
    for name, changes in steps.items():
        m = MembershipFactory(
            member=member(name, joined_at=utc(2027, 1, 5)), plan=monthly, status=changes[-1][1]
        )
        for before, after, at in changes:
            MembershipChangeFactory(
                membership=m, from_status=before, to_status=after, created_at=at
            )


@pytest.fixture
def training(here):
    """Now: Sun 14 Mar 2027, 12:00 PDT. Laser: Ann asked 1 Feb, Bob asked 1 Mar, Cat is on the
    waitlist of the Laser class of 20 Mar (since 5 Mar); Dee's request was met, Fay (elsewhere)
    asks too. Held from 1 to 14 March: Laser on 6 Mar (4 seats; Ann and Bob passed, Cat failed,
    Dee cancelled), Saw on 10 Mar (2 seats; one passed, one absent); a cancelled Laser class."""
    elsewhere = here[1]
    laser = CertificationFactory(name="Laser")
    saw = CertificationFactory(name="Saw")
    ann, bob, cat, dee = member("Ann"), member("Bob"), member("Cat"), member("Dee")
    TrainingRequestFactory(member=ann, certification=laser, created_at=utc(2027, 2, 1))
    TrainingRequestFactory(member=bob, certification=laser, created_at=utc(2027, 3, 1))
    TrainingRequestFactory(member=dee, certification=laser, fulfilled_at=utc(2027, 3, 2))
    TrainingRequestFactory(member=member("Fay", home_location=elsewhere), certification=laser)
    upcoming = ClassSessionFactory(certification=laser, start=utc(2027, 3, 20, 17))
    EnrollmentFactory(session=upcoming, member=cat, status=EnrollmentStatus.WAITLISTED,
                      created_at=utc(2027, 3, 5))  # fmt: skip
    held = ClassSessionFactory(certification=laser, start=utc(2027, 3, 6, 18))
    for who, outcome in ((ann, Outcome.PASSED), (bob, Outcome.PASSED), (cat, Outcome.FAILED)):
        EnrollmentFactory(session=held, member=who, outcome=outcome)
    EnrollmentFactory(session=held, member=dee, status=EnrollmentStatus.CANCELLED)
    sawing = ClassSessionFactory(certification=saw, start=utc(2027, 3, 10, 18), capacity=2)
    EnrollmentFactory(session=sawing, member=ann, outcome=Outcome.PASSED)
    EnrollmentFactory(session=sawing, member=bob, outcome=Outcome.ABSENT)
    ClassSessionFactory(
        certification=laser, start=utc(2027, 3, 8, 18), cancelled_at=utc(2027, 3, 1)
    )
    return laser, saw, (ann, bob, cat, dee)
