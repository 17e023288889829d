"""Instructors hold machines for a class from its page: bookings in the way are cancelled."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from bookings import services
from bookings.errors import BookingRejected
from bookings.models import BookingState
from bookings.rules import Refusal
from membership import roles
from tests.bookings.conftest import at
from tests.factories.equipment import MachineFactory
from tests.factories.membership import UserFactory
from tests.factories.training import ClassSessionFactory


@pytest.fixture
def laser_class(laser):
    """A laser class on Wednesday 10:00-12:00, taught by an instructor of the certification."""
    return ClassSessionFactory(
        certification=laser.required_certification, start=at(2, 10), end=at(2, 12)
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def machines_url(session) -> str:
    return reverse("bookings:session_machines", args=[session.pk])


def hold(client, session, machines, token=None, htmx=True):
    return client.post(
        machines_url(session),
        {"form_token": token or str(uuid.uuid4()), "machines": [m.pk for m in machines]},
        headers={"HX-Request": "true"} if htmx else {},
    )


def test_the_instructor_holds_the_laser_and_sees_whose_booking_was_cancelled(
    maker, laser, laser_class, django_capture_on_commit_callbacks
):
    booking = services.booking_create(member=maker, machine=laser, start=at(2, 11), end=at(2, 12))
    instructor = client_for(laser_class.instructor)
    panel = instructor.get(machines_url(laser_class), headers={"HX-Request": "true"})
    assert "1 booking would be cancelled" in panel.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        panel = hold(instructor, laser_class, [laser]).content.decode()
    assert "Held Laser cutter for this class. Cancelled 1 booking(s)" in panel
    assert f"{maker.display_name} (Laser cutter, Wed 9 Jan 2030, 11:00 to 12:00)" in panel
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED
    assert "Class on this machine" in mail.outbox[-1].body
    with pytest.raises(BookingRejected) as refused:
        services.booking_create(member=maker, machine=laser, start=at(2, 10), end=at(2, 11))
    assert refused.value.reason == Refusal.BLOCKED


def test_releasing_a_machine_lets_members_book_it_again(maker, laser, laser_class):
    instructor = client_for(laser_class.instructor)
    hold(instructor, laser_class, [laser])
    response = instructor.post(
        reverse("bookings:session_machine_release", args=[laser_class.pk, laser.slug]),
        {"form_token": str(uuid.uuid4())},
        follow=True,
    )
    assert "Laser cutter is no longer held for this class." in response.content.decode()
    assert services.booking_create(member=maker, machine=laser, start=at(2, 10), end=at(2, 11))


def test_without_javascript_the_class_page_shows_the_outcome(laser, laser_class):
    response = hold(client_for(laser_class.instructor), laser_class, [laser], htmx=False)
    assert response["Location"] == reverse("training:session_detail", args=[laser_class.pk])
    assert list(laser_class.machines.all()) == [laser]


@pytest.mark.parametrize("who", ["member", "other instructor"])
def test_others_cannot_hold_machines(maker, laser, laser_class, who):
    """A member, or an instructor of another certification, gets 403 and nothing is held."""
    user = maker.user if who == "member" else UserFactory(role=roles.INSTRUCTOR)
    client = client_for(user)
    assert client.get(machines_url(laser_class)).status_code == 403
    assert hold(client, laser_class, [laser]).status_code == 403
    assert not laser_class.machines.exists()


def test_training_staff_hold_machines_for_any_class(laser, laser_class, staff_user):
    hold(client_for(staff_user), laser_class, [laser])
    assert list(laser_class.machines.all()) == [laser]


def test_a_double_submit_holds_once_and_says_so(maker, laser, laser_class):
    cnc = MachineFactory(name="CNC router", slug="cnc")
    instructor = client_for(laser_class.instructor)
    token = str(uuid.uuid4())
    hold(instructor, laser_class, [laser], token=token)
    again = hold(instructor, laser_class, [cnc], token=token).content.decode()
    assert "already submitted" in again
    assert list(laser_class.machines.all()) == [laser]


def test_a_cancelled_class_holds_nothing(laser, laser_class, staff_user):
    from training import scheduling

    scheduling.session_cancel(session=laser_class, reason="Instructor ill", actor=staff_user)
    laser_class.refresh_from_db()
    panel = hold(client_for(staff_user), laser_class, [laser]).content.decode()
    assert "This class is cancelled" in panel
    assert not laser_class.machines.exists()


def test_a_moved_class_takes_its_machines_along(maker, laser, laser_class, staff_user):
    """Moved onto a member's booking from the class page, the class cancels it and holds its
    new time, in the move's own transaction."""
    services.class_session_reserve_machines(session=laser_class, machines=[laser])
    booking = services.booking_create(member=maker, machine=laser, start=at(3, 10), end=at(3, 11))
    response = client_for(staff_user).post(
        reverse("bookings:session_move", args=[laser_class.pk]),
        {
            "start": at(3, 9).strftime("%Y-%m-%dT%H:%M"),
            "end": at(3, 11).strftime("%Y-%m-%dT%H:%M"),
            "form_token": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.state, booking.cancelled_by) == (BookingState.CANCELLED, staff_user)
    assert services.booking_create(member=maker, machine=laser, start=at(2, 10), end=at(2, 11))
    with pytest.raises(BookingRejected):
        services.booking_create(member=maker, machine=laser, start=at(3, 9), end=at(3, 10))


def test_a_class_move_whose_machines_cannot_follow_does_not_move(
    maker, laser, laser_class, staff_user, monkeypatch
):
    """One transaction: if holding the machines at the new time fails, the class stays put and
    nobody's booking is cancelled."""
    services.class_session_reserve_machines(session=laser_class, machines=[laser])
    booking = services.booking_create(member=maker, machine=laser, start=at(3, 10), end=at(3, 11))

    def refuse(**kwargs):
        raise RuntimeError("the machine hold failed")

    monkeypatch.setattr(services, "class_session_reserve_machines", refuse)
    with pytest.raises(RuntimeError):
        services.class_session_move(
            session=laser_class, start=at(3, 9), end=at(3, 11), actor=staff_user
        )
    laser_class.refresh_from_db()
    booking.refresh_from_db()
    assert (laser_class.start, booking.state) == (at(2, 10), BookingState.CONFIRMED)
