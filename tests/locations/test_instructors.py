"""Instructors teach where they hold the role: an instructor of Raleigh is let on a Menlo Park laser
only as a member (with a booking), is not given a Menlo Park class, and marks no roster there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from access.models import AccessSource
from access.policy import Reason
from access.services import access_decide
from membership import roles
from staffing.models import RefusedAction, Role
from staffing.selectors import role_scope, teaching_scope
from staffing.services import OutOfScope, location_role_grant
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.membership import UserFactory, ready_member
from tests.factories.training import ClassSessionFactory
from training import scheduling
from training.errors import NotAllowed, TrainingError
from training.models import ClassSession
from training.selectors import sessions_for_instructor
from training.services import roster_record


@pytest.fixture
def laser(db):
    return certification("Laser cutter")


@pytest.fixture
def raleigh_instructor(raleigh, laser):
    """A certified member who teaches the laser class at Raleigh only."""
    member = ready_member()
    certify(member, laser, granted_at=timezone.now() - timedelta(days=30))
    member.user.groups.add(Group.objects.get(name=roles.INSTRUCTOR))
    laser.instructors.add(member.user)
    location_role_grant(user=member.user, role=Role.INSTRUCTOR, location=raleigh)
    return member


def staff_at(location):
    user = UserFactory(role=roles.STAFF)
    location_role_grant(user=user, role=Role.STAFF, location=location)
    return user


def test_an_instructor_is_let_on_without_a_booking_only_where_they_teach(
    menlo, raleigh, laser, raleigh_instructor
):
    badge = raleigh_instructor.badges.get().uid
    for location, reason in ((raleigh, Reason.ALLOWED_INSTRUCTOR), (menlo, Reason.NO_BOOKING_NOW)):
        machine = MachineFactory(location=location, required_certification=laser)
        decision = access_decide(badge_uid=badge, machine=machine, source=AccessSource.WEB).decision
        assert decision.reason is reason, location


def test_a_chain_wide_instructor_teaches_everywhere(menlo, raleigh, laser, raleigh_instructor):
    location_role_grant(user=raleigh_instructor.user, role=Role.INSTRUCTOR, location=None)
    machine = MachineFactory(location=menlo, required_certification=laser)
    decision = access_decide(
        badge_uid=raleigh_instructor.badges.get().uid, machine=machine, source=AccessSource.WEB
    ).decision
    assert decision.reason is Reason.ALLOWED_INSTRUCTOR


def test_staff_teach_at_their_locations_and_a_role_elsewhere_is_no_default(menlo, raleigh):
    user = staff_at(raleigh)
    assert teaching_scope(user).location_ids == {raleigh.pk}
    assert role_scope(user, Role.INSTRUCTOR).location_ids == frozenset()
    nobody = UserFactory(role=roles.INSTRUCTOR)  # no location role at all: the default location
    assert teaching_scope(nobody).location_ids == {menlo.pk}


def _class_at(location, instructor, laser, **options):
    start = timezone.now() + timedelta(days=3)
    return dict(
        certification=laser,
        instructor=instructor,
        start=start,
        end=start + timedelta(hours=2),
        capacity=4,
        location=location,
        **options,
    )


def test_a_class_is_not_given_to_an_instructor_who_does_not_teach_there(
    menlo, raleigh, laser, raleigh_instructor
):
    user = raleigh_instructor.user
    with pytest.raises(TrainingError, match="does not teach at Menlo Park"):
        scheduling.session_create(**_class_at(menlo, user, laser, actor=staff_at(menlo)))
    assert not ClassSession.objects.exists()

    scheduling.session_create(**_class_at(raleigh, user, laser, actor=staff_at(raleigh)))
    assert ClassSession.objects.get().location == raleigh


def test_staff_of_one_location_schedule_no_class_at_another(menlo, raleigh, laser):
    instructor = UserFactory(role=roles.INSTRUCTOR)
    laser.instructors.add(instructor)
    with pytest.raises(OutOfScope):
        scheduling.series_create(
            **_class_at(menlo, instructor, laser, frequency="weekly", until=None),
            actor=staff_at(raleigh),
        )
    assert not ClassSession.objects.exists()
    assert RefusedAction.objects.get().location_id == menlo.pk


def test_an_instructor_marks_rosters_and_sees_classes_only_where_they_teach(
    client, menlo, raleigh, laser, raleigh_instructor
):
    user = raleigh_instructor.user
    started = timezone.now() - timedelta(minutes=30)
    menlo_class = ClassSessionFactory(
        certification=laser, location=menlo, start=started, end=started + timedelta(hours=2)
    )
    raleigh_class = ClassSessionFactory(
        certification=laser, location=raleigh, start=started, end=started + timedelta(hours=2)
    )

    assert list(sessions_for_instructor(user, since=started)) == [raleigh_class]
    with pytest.raises(NotAllowed, match="You do not teach at Menlo Park"):
        roster_record(session=menlo_class, outcomes={}, actor=user)
    assert roster_record(session=raleigh_class, outcomes={}, actor=user) == []

    client.force_login(user)
    assert client.get(reverse("training:roster", args=[menlo_class.pk])).status_code == 403
    assert client.get(reverse("training:roster", args=[raleigh_class.pk])).status_code == 200
