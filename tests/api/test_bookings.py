"""Bookings through the API: the site's services and rules, their sentences as structured errors,
every write recorded with its credential."""

from __future__ import annotations

import pytest

from api.models import ApiWrite
from bookings.models import Booking, BookingState
from tests.api.conftest import at
from tests.factories.bookings import BookingFactory

pytestmark = pytest.mark.django_db


def test_a_member_books_a_machine_and_the_write_is_recorded_with_the_token(
    member_api, laser, maker
):
    """A booking made with a token is the member's, made by them, and recorded with the token."""
    response = member_api.post("/bookings", {"machine": "laser", "start": at(2), "end": at(3)})
    assert response.status_code == 201, response.content
    body = response.json()
    booking = Booking.objects.get(pk=body["id"])
    assert (booking.member, booking.created_by, booking.state) == (
        maker,
        maker.user,
        BookingState.CONFIRMED,
    )
    assert body["machine"]["slug"] == "laser"
    write = ApiWrite.objects.get()
    assert (write.reason, write.object_id, write.actor) == (
        "booking created",
        str(booking.pk),
        maker.user,
    )
    assert write.credential.user == maker.user and write.method == "POST"


def test_a_refusal_carries_the_rules_code_and_the_sites_sentence(member_api, laser, maker):
    """An overlapping booking is refused with the same sentence the site shows; nothing changes."""
    BookingFactory(machine=laser, start=laser_time(2), end=laser_time(3))
    response = member_api.post("/bookings", {"machine": "laser", "start": at(2), "end": at(3)})
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "overlap",
            "message": "Laser cutter is already booked at that time.",
        }
    }
    assert Booking.objects.count() == 1 and not ApiWrite.objects.exists()


def laser_time(hours: float):
    from tests.api.conftest import NOW, timedelta

    return NOW + timedelta(hours=hours)


def test_off_grid_and_past_bookings_are_refused_by_the_same_rules(member_api, laser):
    off_grid = member_api.post(
        "/bookings", {"machine": "laser", "start": at(2.1), "end": at(3)}
    ).json()
    past = member_api.post("/bookings", {"machine": "laser", "start": at(-3), "end": at(-2)}).json()
    assert off_grid["error"]["code"] == "off_grid"
    assert past["error"] == {
        "code": "in_past",
        "message": "That time has already passed; choose a time in the future.",
    }


def test_cancel_and_extend_go_through_the_services(member_api, laser, maker, frozen):
    booking = member_api.post(
        "/bookings", {"machine": "laser", "start": at(1), "end": at(2)}
    ).json()
    frozen.shift(3600 + 60)  # the booking is running now
    extended = member_api.post(f"/bookings/{booking['id']}/extend", {"end": at(3)})
    assert extended.status_code == 200, extended.content
    assert extended.json()["extended_count"] == 1
    cancelled = member_api.post(f"/bookings/{booking['id']}/cancel", {"reason": "done early"})
    assert cancelled.status_code == 409
    assert cancelled.json()["error"]["code"] == "already_started"
    later = member_api.post("/bookings", {"machine": "laser", "start": at(5), "end": at(6)}).json()
    done = member_api.post(f"/bookings/{later['id']}/cancel", {"reason": "plans changed"})
    assert done.json()["state"] == BookingState.CANCELLED
    assert list(ApiWrite.objects.order_by("id").values_list("reason", flat=True)) == [
        "booking created",
        "booking extended",
        "booking created",
        "booking cancelled",
    ]


def test_the_list_pages_with_a_cursor_and_filters_by_span(member_api, laser, maker):
    for hour in range(1, 6):
        BookingFactory(
            machine=laser, member=maker, start=laser_time(hour), end=laser_time(hour + 0.5)
        )
    first = member_api.get("/bookings", {"limit": 2}).json()
    assert [b["start"] for b in first["items"]] == [at(5), at(4)]
    second = member_api.get("/bookings", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = member_api.get("/bookings", {"limit": 2, "cursor": second["next_cursor"]}).json()
    assert [b["start"] for b in second["items"] + third["items"]] == [at(3), at(2), at(1)]
    assert third["next_cursor"] is None
    span = member_api.get("/bookings", {"start": at(2), "end": at(4)}).json()
    assert [b["start"] for b in span["items"]] == [at(3), at(2)]


def test_availability_says_when_the_machine_is_held_and_free(member_api, laser):
    BookingFactory(machine=laser, start=laser_time(2), end=laser_time(3))
    body = member_api.get("/machines/laser/availability", {"start": at(0), "end": at(4)}).json()
    assert body["opening"] is None
    assert body["busy"] == [{"start": at(2), "end": at(3), "kind": "booked", "label": "Booked"}]
    assert body["free"] == [{"start": at(0), "end": at(2)}, {"start": at(3), "end": at(4)}]


def test_a_read_gives_an_etag_and_the_same_read_with_it_a_304(member_api, laser):
    first = member_api.get("/machines")
    etag = first["ETag"]
    assert first.status_code == 200 and etag
    assert "Authorization" in first["Vary"] and "private" in first["Cache-Control"]
    again = member_api.get("/machines", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    member_api.post("/bookings", {"machine": "laser", "start": at(2), "end": at(3)})
    changed = member_api.get("/bookings", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200


def test_classes_enrol_and_cancel(member_api, maker, frozen):
    from tests.factories.training import ClassSessionFactory

    session = ClassSessionFactory()
    enrolled = member_api.post(f"/classes/{session.pk}/enrol")
    assert enrolled.status_code == 201 and enrolled.json()["status"] == "enrolled"
    listed = member_api.get("/classes").json()["items"]
    assert [(c["id"], c["my_enrollment"], c["seats_free"]) for c in listed] == [
        (session.pk, "enrolled", 3)
    ]
    twice = member_api.post(f"/classes/{session.pk}/enrol")
    assert twice.status_code == 409
    assert twice.json()["error"]["message"] == "You are already enrolled in this class."
    cancelled = member_api.post(f"/classes/{session.pk}/cancel")
    assert cancelled.json()["status"] == "cancelled"


def test_staff_with_booking_rights_book_for_a_member(client, laser, maker, staff):
    """The booking is the member's, made by the staff user, as at the front desk."""
    from django.contrib.auth.models import Permission

    from api.models import CredentialKind
    from tests.api.conftest import Api, issue

    staff.user_permissions.add(Permission.objects.get(codename="manage_bookings"))
    api = Api(client, issue(staff, "bookings", kind=CredentialKind.KEY))
    response = api.post(
        "/bookings", {"machine": "laser", "start": at(2), "end": at(3), "member_id": maker.pk}
    )
    assert response.status_code == 201, response.content
    booking = Booking.objects.get()
    assert (booking.member, booking.created_by) == (maker, staff)


def test_machines_and_gates_filter_by_location(client, member_api, laser, staff):
    from api.models import CredentialKind
    from tests.api.conftest import Api, issue
    from tests.factories.access import GateDeviceFactory

    GateDeviceFactory(machine=laser)
    slug = laser.location.slug
    assert [m["slug"] for m in member_api.get("/machines", {"location": slug}).json()["items"]] == [
        "laser"
    ]
    assert member_api.get("/machines", {"location": "elsewhere"}).json()["items"] == []
    api = Api(client, issue(staff, "access-log", kind=CredentialKind.KEY))
    assert len(api.get("/staff/gates", {"location": slug}).json()["items"]) == 1
    assert api.get("/staff/gates", {"location": "elsewhere"}).json()["items"] == []
