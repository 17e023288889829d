"""Booking pages: the grid shows free, yours and taken slots; booking and cancelling by htmx."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from bookings import feeds, services
from bookings.models import Booking, BookingState
from membership import roles
from tests.bookings.conftest import at
from tests.factories.bookings import BookingFactory
from tests.factories.membership import UserFactory, ready_member


@pytest.fixture
def maker_client(client, maker):
    client.force_login(maker.user)
    return client


def grid_url(machine):
    return reverse("bookings:week_grid", args=[machine.slug]) + f"?week={at(0, 0).date()}"


def test_the_grid_shows_free_mine_and_taken_without_names(maker_client, maker, laser):
    """Members see their own booking as theirs and others' as "Booked", never a name."""
    other = ready_member()
    other.user.first_name, other.user.last_name = "Zed", "Secretname"
    other.user.save()
    BookingFactory(machine=laser, member=other, start=at(1, 10), end=at(1, 11))
    BookingFactory(machine=laser, member=maker, start=at(1, 12), end=at(1, 13))
    page = maker_client.get(grid_url(laser)).content.decode()
    assert 'data-status="taken"' in page and 'data-status="mine"' in page
    assert 'data-status="free"' in page and 'data-status="closed"' not in page
    assert "Secretname" not in page


def test_the_slot_running_now_is_free_to_walk_up_to_and_earlier_ones_are_past(
    maker_client, laser, frozen
):
    frozen.move_to(at(1, 10, 20))
    page = maker_client.get(grid_url(laser)).content.decode()

    def status(start) -> str:
        return re.search(rf'data-status="(\w+)" data-start="{start.isoformat()}"', page)[1]

    assert (status(at(1, 9, 30)), status(at(1, 10)), status(at(1, 10, 30))) == (
        "past",
        "free",
        "free",
    )


def test_staff_see_names(client, laser, frozen):
    """Staff see who booked."""
    other = ready_member()
    other.user.last_name = "Secretname"
    other.user.save()
    BookingFactory(machine=laser, member=other, start=at(1, 10), end=at(1, 11))
    client.force_login(UserFactory(role=roles.STAFF))
    assert "Secretname" in client.get(grid_url(laser)).content.decode()


def test_book_by_htmx_and_see_it_on_the_grid(maker_client, laser):
    """Posting the booking form books the slot and returns the grid with it as yours."""
    form = maker_client.get(
        reverse("bookings:booking_new", args=[laser.slug]),
        {"start": at(1, 10).isoformat()},
        headers={"HX-Request": "true"},
    )
    assert form.status_code == 200 and "Book Laser cutter" in form.content.decode()
    response = maker_client.post(
        reverse("bookings:booking_new", args=[laser.slug]),
        {"start": at(1, 10).isoformat(), "minutes": 60, "form_token": uuid.uuid4()},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Booked Laser cutter" in body and 'data-status="mine"' in body
    assert Booking.objects.get().end == at(1, 11)


def test_a_booking_by_htmx_answers_with_the_notice_and_only_its_cells(maker_client, laser):
    """Out of band: the notice, the panel emptied, and the cells the booking and its buffer
    cover, each aimed at its own cell of the grid; nothing else of the week is sent."""
    laser.buffer_minutes = 30
    laser.save()
    response = maker_client.post(
        reverse("bookings:booking_new", args=[laser.slug]),
        {
            "start": at(1, 10).isoformat(),
            "minutes": 60,
            "form_token": uuid.uuid4(),
            "focus": at(1, 0).date().isoformat(),
        },
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and response["HX-Reswap"] == "none"
    assert 'hx-swap-oob="innerHTML:#booking-notices"' in body and "Booked Laser cutter" in body
    assert 'hx-swap-oob="innerHTML:#booking-panel"' in body
    cells = re.findall(
        r'<td class="([^"]+)" data-status="(\w+)" data-start="([^"]+)" hx-swap-oob="outerHTML:#booking-area td\[data-start=\'([^\']+)\'\]"',
        body,
    )
    assert [(css, status, start) for css, status, start, _ in cells] == [
        ("slot mine", "mine", at(1, 10).isoformat()),
        ("slot mine", "mine", at(1, 10, 30).isoformat()),
        ("slot buffer", "buffer", at(1, 11).isoformat()),
    ]
    assert all(start == aimed for _, _, start, aimed in cells)
    assert body.count("<td") == 3 and "Cancel booking" in body  # the cell where it starts


def test_a_refused_booking_says_why_and_writes_nothing(maker_client, laser):
    """The refusal sentence is shown in the page; nothing is written."""
    response = maker_client.post(
        reverse("bookings:booking_new", args=[laser.slug]),
        {"start": at(1, 20).isoformat(), "minutes": 120, "form_token": uuid.uuid4()},
        headers={"HX-Request": "true"},
    )
    assert "not open for bookings then" in response.content.decode()
    assert not Booking.objects.exists()


def test_double_clicked_form_books_once(maker_client, laser):
    """Two posts of the same form: one booking; the second shows the grid with it, no error."""
    data = {"start": at(1, 10).isoformat(), "minutes": 60, "form_token": uuid.uuid4()}
    url = reverse("bookings:booking_new", args=[laser.slug])
    maker_client.post(url, data, headers={"HX-Request": "true"})
    second = maker_client.post(url, data, headers={"HX-Request": "true"}).content.decode()
    assert "already submitted" not in second and 'data-status="mine"' in second
    assert Booking.objects.count() == 1


def test_a_double_submit_without_javascript_shows_the_first_result(maker_client, laser):
    """The browser shows the second response: it leads to the page the first went to, where the
    first's "Booked ..." waits, and says nothing about a duplicate."""
    data = {"start": at(1, 10).isoformat(), "minutes": 60, "form_token": uuid.uuid4()}
    url = reverse("bookings:booking_new", args=[laser.slug])
    maker_client.post(url, data)  # its redirect is never followed: the second click won
    page = maker_client.post(url, data, follow=True).content.decode()
    assert "Booked Laser cutter, Tue 8 Jan 2030, 10:00 to 11:00." in page
    assert "already submitted" not in page
    assert Booking.objects.count() == 1


def test_cancelling_someone_elses_booking_is_refused(maker_client, laser):
    """A member cannot cancel another member's booking; it stays confirmed."""
    booking = BookingFactory(machine=laser, member=ready_member(), start=at(1, 10))
    maker_client.post(
        reverse("bookings:booking_cancel", args=[booking.pk]), {"form_token": uuid.uuid4()}
    )
    booking.refresh_from_db()
    assert booking.state == BookingState.CONFIRMED


def test_my_bookings_lists_and_cancels(maker_client, maker, laser):
    """My bookings lists what is coming; cancel works from there."""
    booking = services.booking_create(member=maker, machine=laser, start=at(1, 10), end=at(1, 11))
    page = maker_client.get(reverse("bookings:my_bookings")).content.decode()
    assert "Laser cutter" in page and "feed/" in page
    maker_client.post(
        reverse("bookings:booking_cancel", args=[booking.pk]), {"form_token": uuid.uuid4()}
    )
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED


def test_member_feed_needs_the_token(client, maker, laser):
    """The member's feed lists their bookings; a forged token gets a 404."""
    services.booking_create(member=maker, machine=laser, start=at(1, 10), end=at(1, 11))
    token = services.calendar_feed_for(maker).token
    feed = client.get(reverse("bookings:member_feed", args=[token]))
    assert feed.status_code == 200 and b"Laser cutter" in feed.content
    assert feed["Content-Type"].startswith("text/calendar")
    assert client.get(reverse("bookings:member_feed", args=["forged"])).status_code == 404
    services.calendar_feed_reset(member=maker)
    assert client.get(reverse("bookings:member_feed", args=[token])).status_code == 404


def test_member_feed_is_in_the_members_own_language(client, maker, laser):
    """A calendar app asks in no language (or its own): the feed is in the member's."""
    maker.user.language = "ko"
    maker.user.save(update_fields=["language"])
    services.booking_create(member=maker, machine=laser, start=at(1, 10), end=at(1, 11))
    token = services.calendar_feed_for(maker).token
    feed = client.get(reverse("bookings:member_feed", args=[token]), HTTP_ACCEPT_LANGUAGE="en")
    assert "SUMMARY:Laser cutter (예약됨)" in feed.content.decode()


def test_machine_feed_has_no_names(client, maker, laser):
    """The machine feed shows "Booked", never who; a forged signature gets a 404."""
    services.booking_create(member=maker, machine=laser, start=at(1, 10), end=at(1, 11))
    url = reverse("bookings:machine_feed", args=[laser.slug, feeds.machine_feed_token(laser)])
    body = client.get(url).content.decode()
    assert "Booked" in body and maker.user.last_name not in body and maker.user.email not in body
    forged = reverse("bookings:machine_feed", args=[laser.slug, "x" * 20])
    assert client.get(forged).status_code == 404


def test_staff_check_in_by_hand(client, maker, laser, frozen):
    """Staff check a member in from the day list."""
    booking = services.booking_create(member=maker, machine=laser, start=at(1, 10), end=at(1, 11))
    frozen.move_to(at(1, 9, 55))
    client.force_login(UserFactory(role=roles.STAFF))
    assert client.get(reverse("bookings:staff_day") + "?date=2030-01-08").status_code == 200
    client.post(reverse("bookings:booking_check_in", args=[booking.pk]))
    booking.refresh_from_db()
    assert booking.state == BookingState.CHECKED_IN


def test_members_cannot_check_in_by_hand(maker_client, maker, laser):
    """Manual check-in is a staff action."""
    booking = services.booking_create(member=maker, machine=laser, start=at(1, 10), end=at(1, 11))
    response = maker_client.post(reverse("bookings:booking_check_in", args=[booking.pk]))
    assert response.status_code == 403


def test_pages_need_a_login(client, laser):
    """Anonymous visitors are sent to log in."""
    for url in [reverse("bookings:my_bookings"), grid_url(laser)]:
        assert client.get(url).status_code == 302


def test_staff_book_for_a_member(client, maker, laser):
    """Staff book for a member by email; the booking is the member's, made by staff."""
    staff = UserFactory(role=roles.STAFF)
    client.force_login(staff)
    client.post(
        reverse("bookings:booking_new", args=[laser.slug]),
        {
            "start": at(1, 10).isoformat(),
            "minutes": 60,
            "member_email": maker.user.email,
            "form_token": uuid.uuid4(),
        },
        headers={"HX-Request": "true"},
    )
    booking = Booking.objects.get()
    assert (booking.member, booking.created_by) == (maker, staff)


def test_a_member_cannot_book_for_someone_else_through_the_form(maker_client, laser):
    """The "for member" field is staff-only: a member's post of it books for themselves."""
    other = ready_member()
    maker_client.post(
        reverse("bookings:booking_new", args=[laser.slug]),
        {
            "start": at(1, 10).isoformat(),
            "minutes": 60,
            "member_email": other.user.email,
            "form_token": uuid.uuid4(),
        },
        headers={"HX-Request": "true"},
    )
    assert not Booking.objects.filter(member=other).exists()
