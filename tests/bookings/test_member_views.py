"""The member's booking pages guide instead of refusing: reasons before the click, lengths that
fit, a cancel that asks first without JavaScript, only the actions that can be done."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse

from bookings.models import Booking, BookingState
from tests.bookings.conftest import NOW, at
from tests.factories.bookings import BookingFactory
from tests.factories.membership import ready_member
from tests.factories.training import ClassSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def maker_client(client, maker):
    client.force_login(maker.user)
    return client


def _grid(client, machine, **params):
    return client.get(
        reverse("bookings:week_grid", args=[machine.slug]), params, headers={"HX-Request": "true"}
    ).content.decode()


def test_an_uncertified_member_sees_why_on_the_grid_with_the_fix(client, laser):
    member = ready_member()
    session = ClassSessionFactory(certification=laser.required_certification, start=at(5, 10))
    client.force_login(member.user)
    page = _grid(client, laser, week=NOW.date().isoformat())
    assert "Needs the Laser cutter certification. Next class Sat 12 Jan 2030, 10:00." in page
    assert reverse("training:session_detail", args=[session.pk]) in page
    assert 'data-status="free"' not in page and 'data-status="locked"' in page


def test_the_machine_cards_say_what_this_member_can_book(client, laser, maker):
    client.force_login(ready_member().user)
    page = client.get(reverse("equipment:machine_list")).content.decode()
    assert 'data-can-book="no"' in page and "Needs the Laser cutter certification" in page
    client.force_login(maker.user)
    page = client.get(reverse("equipment:machine_list")).content.decode()
    assert 'data-can-book="yes"' in page


def test_the_form_offers_only_lengths_that_fit(maker_client, laser):
    """Open until 21:00: from 19:30 only 30, 60 and 90 minutes."""
    form = maker_client.get(
        reverse("bookings:booking_new", args=[laser.slug]),
        {"start": at(1, 19, 30).isoformat()},
        headers={"HX-Request": "true"},
    ).content.decode()
    lengths = re.search(r'<select name="minutes".*?</select>', form, re.S)[0]
    assert lengths.count("<option") == 3 and 'value="90"' in lengths
    assert 'value="120"' not in lengths


def test_a_bad_start_is_a_styled_400(maker_client, laser):
    response = maker_client.get(
        reverse("bookings:booking_new", args=[laser.slug]), {"start": "tomorrow"}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "<title>Bad request · " in page and "that link names no time" in page


def test_cancel_asks_first_without_javascript(maker_client, maker, laser):
    booking = BookingFactory(machine=laser, member=maker, start=at(1, 10), end=at(1, 11))
    url = reverse("bookings:booking_cancel", args=[booking.pk])
    page = maker_client.get(url).content.decode()
    assert "Cancel this booking?" in page and "Yes, cancel it" in page and "Keep it" in page
    booking.refresh_from_db()
    assert booking.state == BookingState.CONFIRMED  # asking changes nothing
    maker_client.post(url, {"form_token": uuid.uuid4(), "next": reverse("bookings:my_bookings")})
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED


def test_my_bookings_offers_cancel_only_where_it_can_be_done(maker_client, maker, laser, frozen):
    frozen.move_to(at(0, 10))
    future = BookingFactory(machine=laser, member=maker, start=at(1, 10), end=at(1, 11))
    checked_in = BookingFactory(
        machine=laser,
        member=maker,
        start=at(0, 9, 30),
        end=at(0, 10, 30),
        state=BookingState.CHECKED_IN,
    )
    page = maker_client.get(reverse("bookings:my_bookings")).content.decode()
    assert reverse("bookings:booking_cancel", args=[future.pk]) in page
    assert reverse("bookings:booking_cancel", args=[checked_in.pk]) not in page
    assert reverse("bookings:booking_finish", args=[checked_in.pk]) in page
    assert reverse("bookings:booking_extend", args=[checked_in.pk]) in page


def test_the_dashboard_shows_the_running_booking_with_extend_and_im_done(
    maker_client, maker, laser, frozen
):
    frozen.move_to(at(0, 10))
    running = BookingFactory(
        machine=laser,
        member=maker,
        start=at(0, 9, 30),
        end=at(0, 10, 30),
        state=BookingState.CHECKED_IN,
    )
    page = maker_client.get(reverse("dashboard")).content.decode()
    assert "Your booking now" in page and "Mon 7 Jan 2030, 09:30\u201310:30" in page
    assert "I'm done" in page and "Extend" in page
    maker_client.post(
        reverse("bookings:booking_finish", args=[running.pk]),
        {"form_token": uuid.uuid4(), "next": reverse("dashboard")},
    )
    running.refresh_from_db()
    assert running.state == BookingState.COMPLETED and running.end == at(0, 10)


def test_a_phone_day_view_starts_today_and_steps_by_day(maker_client, laser, frozen):
    frozen.move_to(at(2, 8))  # Wednesday
    page = _grid(maker_client, laser)
    assert "Wed 9 Jan 2030</strong>" in page and "?day=2030-01-10" in page
    # Every other day's cells are marked to hide on narrow screens.
    assert page.count('class="slot') > page.count("other-day") > 0
    nextday = _grid(maker_client, laser, day="2030-01-14")  # next week's Monday
    assert "Week of Mon 14 Jan 2030" in nextday


def test_the_legend_has_buffer_past_and_closed_apart(maker_client, laser):
    page = _grid(maker_client, laser)
    for kind in ("buffer", "past", "closed", "blocked"):
        assert f'<span class="slot {kind}">' in page


def test_no_booking_happens_when_the_member_may_not_book(client, laser):
    client.force_login(ready_member().user)
    form = client.get(
        reverse("bookings:booking_new", args=[laser.slug]),
        {"start": at(1, 10).isoformat()},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Needs the Laser cutter certification" in form and "<select" not in form
    assert not Booking.objects.exists()


def test_a_night_slot_on_a_24_hour_machine_books(maker_client, maker):
    from tests.factories.equipment import MachineFactory

    machine = MachineFactory(name="Night laser", slug="night", required_certification=None)
    page = _grid(maker_client, machine, week=NOW.date().isoformat())
    start = at(1, 23, 30)
    assert start.isoformat().replace(":", "%3A").replace("+", "%2B") in page
    response = maker_client.post(
        reverse("bookings:booking_new", args=[machine.slug]),
        {"start": start.isoformat(), "minutes": 30, "form_token": uuid.uuid4()},
        headers={"HX-Request": "true"},
    )
    assert "Booked Night laser, Tue 8 Jan 2030, 23:30 to 00:00." in response.content.decode()
    assert Booking.objects.get().end == start + timedelta(minutes=30)


def test_an_area_day_shows_its_machines_side_by_side(maker_client, maker, laser):
    from tests.factories.equipment import MachineFactory
    from tests.factories.locations import AreaFactory

    room = AreaFactory(name="Laser room", location=laser.location)
    laser.area = room
    laser.save()
    other = MachineFactory(name="Laser B", slug="laser-b", area=room, required_certification=None)
    wood = AreaFactory(name="Wood shop", location=laser.location)
    MachineFactory(name="Router", slug="router", area=wood, required_certification=None)
    BookingFactory(machine=other, start=at(1, 10), end=at(1, 11))
    page = maker_client.get(
        reverse("bookings:area_day"), {"area": room.pk, "day": "2030-01-08"}
    ).content.decode()
    assert "Laser cutter" in page and "Laser B" in page and "Router</a>" not in page
    assert 'aria-label="Free: Laser cutter, Tue 8 Jan 2030, 10:00"' in page
    assert 'aria-label="Free: Laser B, Tue 8 Jan 2030, 10:00"' not in page  # booked there


def test_a_weekly_series_books_the_weeks_the_rules_allow_and_lists_the_others(
    maker_client, maker, laser
):
    """Every Tuesday 10:00 for 3 weeks, 14 days ahead at most: week 1 books; week 2 is taken by
    someone else, week 3 is beyond the horizon; each says why."""
    BookingFactory(machine=laser, start=at(8, 10), end=at(8, 11))  # Tue 15 Jan, taken
    response = maker_client.post(
        reverse("bookings:booking_new", args=[laser.slug]),
        {
            "start": at(1, 10).isoformat(),
            "minutes": 60,
            "repeat_weeks": 3,
            "form_token": uuid.uuid4(),
        },
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    mine = Booking.objects.filter(member=maker).order_by("start")
    assert [b.start for b in mine] == [at(1, 10)]
    assert "Booked 1 of 3 weeks of Laser cutter: Tue 8 Jan 2030, 10:00." in page
    assert "Not Tue 15 Jan 2030: Laser cutter is already booked at that time." in page
    assert "Not Tue 22 Jan 2030: Bookings on Laser cutter open 14 days ahead" in page


def test_a_booking_is_handed_to_a_certified_member_only(maker_client, maker, laser):
    from tests.factories.equipment import certify

    booking = BookingFactory(machine=laser, member=maker, start=at(1, 10), end=at(1, 11))
    url = reverse("bookings:booking_hand_over", args=[booking.pk])
    uncertified = ready_member()
    page = maker_client.post(
        url, {"email": uncertified.user.email, "form_token": uuid.uuid4()}, follow=True
    ).content.decode()
    assert "cannot take it: You need the Laser cutter certification" in page
    booking.refresh_from_db()
    assert booking.member == maker
    friend = ready_member()
    certify(friend, laser.required_certification)
    maker_client.post(url, {"email": friend.user.email, "form_token": uuid.uuid4()})
    booking.refresh_from_db()
    assert booking.member == friend and booking.state == BookingState.CONFIRMED


def test_several_machines_at_once_are_all_or_none(maker_client, maker, laser):
    from tests.factories.equipment import MachineFactory
    from tests.factories.locations import AreaFactory

    room = AreaFactory(name="Laser room", location=laser.location)
    laser.area = room
    laser.save()
    extractor = MachineFactory(
        name="Fume extractor", slug="fumes", area=room, required_certification=None
    )
    url = reverse("bookings:booking_new", args=[laser.slug])
    form = maker_client.get(url, {"start": at(1, 10).isoformat()}).content.decode()
    assert "Book at the same time" in form and "Fume extractor" in form
    BookingFactory(machine=extractor, start=at(1, 10), end=at(1, 11))  # someone took it
    data = {"start": at(1, 10).isoformat(), "minutes": 60, "also": [extractor.pk]}
    page = maker_client.post(url, {**data, "form_token": uuid.uuid4()}, follow=True)
    assert "Nothing was booked: Fume extractor is already booked" in page.content.decode()
    assert not Booking.objects.filter(member=maker).exists()
    data["start"] = at(1, 12).isoformat()
    maker_client.post(url, {**data, "form_token": uuid.uuid4()})
    assert {b.machine for b in Booking.objects.filter(member=maker)} == {laser, extractor}
