"""The waitlist pages: "Wait for it" on booked time, the join panel, my waits, the offer page
that books in one click or passes it on, and the machine's waitlist for its own staff."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.urls import reverse

from bookings import services, waitlist
from bookings.models import Booking, Wait, WaitState
from tests.bookings.conftest import NOW, at
from tests.factories.equipment import certify
from tests.factories.locations import LocationFactory
from tests.factories.membership import ready_member
from tests.factories.staffing import staff_at

pytestmark = pytest.mark.django_db
SPAN = (at(1, 10), at(1, 12))


@pytest.fixture
def booked(laser):
    holder = ready_member()
    certify(holder, laser.required_certification)
    holder.user.last_name = "Holdername"
    holder.user.save()
    return services.booking_create(member=holder, machine=laser, start=SPAN[0], end=SPAN[1])


def _grid(client, machine):
    return client.get(
        reverse("bookings:week_grid", args=[machine.slug]),
        {"week": NOW.date().isoformat()},
        headers={"HX-Request": "true"},
    ).content.decode()


def test_a_member_joins_from_the_grid_and_sees_the_wait_on_my_bookings(
    client, maker, laser, booked
):
    client.force_login(maker.user)
    wait_url = reverse("bookings:wait_new", args=[laser.slug])
    assert "Wait for it" in _grid(client, laser) and wait_url in _grid(client, laser)
    panel = client.get(
        wait_url,
        {"start": SPAN[0].isoformat(), "end": SPAN[1].isoformat()},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Join the waitlist" in panel
    response = client.post(
        wait_url,
        {"start": SPAN[0].isoformat(), "minutes": 120, "form_token": uuid.uuid4()},
    )
    assert response.status_code == 302
    wait = Wait.objects.get(member=maker)
    assert "You're waiting" in _grid(client, laser)
    page = client.get(reverse("bookings:my_bookings")).content.decode()
    assert "Waiting for" in page and reverse("bookings:wait_leave", args=[wait.pk]) in page
    client.post(reverse("bookings:wait_leave", args=[wait.pk]), {"form_token": uuid.uuid4()})
    assert Wait.objects.get(pk=wait.pk).state == WaitState.LEFT
    assert "Waiting for" not in client.get(reverse("bookings:my_bookings")).content.decode()


def test_a_member_waits_for_part_of_a_booking_from_its_slot(client, maker, laser, booked):
    """Each booked slot links its own start; the panel offers the lengths the member could book
    from it, preselected to the booking's end, and the wait is for the length chosen."""
    client.force_login(maker.user)
    eleven = SPAN[0] + timedelta(hours=1)
    link = reverse("bookings:wait_new", args=[laser.slug]) + "?start=" + quote(eleven.isoformat())
    assert link in _grid(client, laser)
    panel = client.get(
        reverse("bookings:wait_new", args=[laser.slug]),
        {"start": eleven.isoformat(), "end": SPAN[1].isoformat()},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert '<option value="60" selected>' in panel  # to 12:00, the end of the booking
    assert '<option value="180">' in panel  # on past it, as far as a booking may last
    client.post(
        reverse("bookings:wait_new", args=[laser.slug]),
        {"start": eleven.isoformat(), "minutes": 30, "form_token": uuid.uuid4()},
    )
    wait = Wait.objects.get(member=maker)
    assert (wait.start, wait.end) == (eleven, eleven + timedelta(minutes=30))


def test_the_booking_panel_offers_to_wait_for_longer_than_is_free(client, maker, laser, booked):
    """Free 09:00-10:00, booked from 10:00: booking from 09:00 offers up to an hour, and a link
    to wait instead for longer, whose panel offers the lengths reaching into the booking."""
    client.force_login(maker.user)
    nine = SPAN[0] - timedelta(hours=1)
    panel = client.get(
        reverse("bookings:booking_new", args=[laser.slug]),
        {"start": nine.isoformat()},
        headers={"HX-Request": "true"},
    ).content.decode()
    wait_link = (
        reverse("bookings:wait_new", args=[laser.slug]) + "?start=" + quote(nine.isoformat())
    )
    assert wait_link in panel
    waiting = client.get(wait_link, headers={"HX-Request": "true"}).content.decode()
    assert '<option value="60"' not in waiting  # 09:00-10:00 is free: book it
    assert '<option value="90" selected>' in waiting
    free_later = client.get(
        reverse("bookings:booking_new", args=[laser.slug]),
        {"start": at(2, 10).isoformat()},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert reverse("bookings:wait_new", args=[laser.slug]) not in free_later  # nothing booked


def test_the_panel_offers_no_length_when_none_may_be_waited_for(client, maker, laser, booked):
    """From a slot of one's own booking there is nothing to wait for: the panel says why."""
    client.force_login(booked.member.user)
    panel = client.get(
        reverse("bookings:wait_new", args=[laser.slug]),
        {"start": SPAN[0].isoformat()},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert 'data-reason="wait_yours"' in panel and "Join the waitlist</button>" not in panel


def test_an_uncertified_member_is_told_why_instead_of_joining(client, laser, booked):
    member = ready_member()
    client.force_login(member.user)
    assert "Wait for it" not in _grid(client, laser)
    panel = client.get(
        reverse("bookings:wait_new", args=[laser.slug]),
        {"start": SPAN[0].isoformat(), "end": SPAN[1].isoformat()},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Needs the Laser cutter certification" in panel
    client.post(
        reverse("bookings:wait_new", args=[laser.slug]),
        {"start": SPAN[0].isoformat(), "minutes": 120, "form_token": uuid.uuid4()},
    )
    assert not Wait.objects.exists()


def test_the_offer_page_books_in_one_click_and_is_the_members_alone(client, maker, laser, booked):
    wait = waitlist.wait_join(member=maker, machine=laser, start=SPAN[0], end=SPAN[1])
    services.booking_cancel(booking=booked, actor=booked.member.user)
    offer_url = reverse("bookings:wait_offer", args=[wait.pk])
    client.force_login(booked.member.user)
    assert client.get(offer_url).status_code == 404
    client.force_login(maker.user)
    page = client.get(offer_url).content.decode()
    assert "Book it" in page and "No thanks" in page
    assert client.post(offer_url, {"form_token": uuid.uuid4()}).status_code == 302
    assert Booking.objects.get(member=maker, state="confirmed").start == SPAN[0]
    assert "no longer open" not in client.get(offer_url).content.decode()
    assert "You booked it" in client.get(offer_url).content.decode()


def test_no_thanks_passes_the_offer_on(client, maker, laser, booked):
    second = ready_member()
    certify(second, laser.required_certification)
    wait = waitlist.wait_join(member=maker, machine=laser, start=SPAN[0], end=SPAN[1])
    waitlist.wait_join(member=second, machine=laser, start=SPAN[0], end=SPAN[1])
    services.booking_cancel(booking=booked, actor=booked.member.user)
    client.force_login(maker.user)
    client.post(
        reverse("bookings:wait_offer", args=[wait.pk]),
        {"form_token": uuid.uuid4(), "decline": ""},
    )
    assert Wait.objects.get(member=second).state == WaitState.OFFERED


def test_staff_of_the_machines_location_see_its_waitlist(client, maker, laser, booked):
    waitlist.wait_join(member=maker, machine=laser, start=SPAN[0], end=SPAN[1])
    client.force_login(staff_at(laser.location))
    page = _grid(client, laser)
    assert "Waitlist" in page and maker.display_name in page
    client.force_login(staff_at(LocationFactory()))
    page = _grid(client, laser)
    assert maker.display_name not in page and 'id="waitlist-h"' not in page
    client.force_login(maker.user)
    assert 'id="waitlist-h"' not in _grid(client, laser)


def test_the_dashboard_puts_an_open_offer_on_top(client, maker, laser, booked):
    wait = waitlist.wait_join(member=maker, machine=laser, start=SPAN[0], end=SPAN[1])
    client.force_login(maker.user)
    offer_url = reverse("bookings:wait_offer", args=[wait.pk])
    assert offer_url not in client.get(reverse("dashboard")).content.decode()  # only waiting

    services.booking_cancel(booking=booked, actor=booked.member.user)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Freed for you from the waitlist" in page and offer_url in page
