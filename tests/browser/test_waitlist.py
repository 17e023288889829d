"""A member waits for a booked slot from the grid, the holder cancels, and the emailed offer
books it in one click."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingState, Wait, WaitState
from tests.factories.equipment import MachineFactory
from tests.factories.membership import PASSWORD, ready_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_join_the_waitlist_on_the_grid_and_take_the_offer(page, log_in):
    holder, member = ready_member(), ready_member()
    machine = MachineFactory(name="Laser cutter A", slug="laser-a", required_certification=None)
    today = timezone.localdate()
    next_monday = today + timedelta(days=7 - today.weekday())
    slot = datetime.combine(
        next_monday + timedelta(days=1), time(10), tzinfo=timezone.get_current_timezone()
    )
    booking = services.booking_create(
        member=holder, machine=machine, start=slot, end=slot + timedelta(hours=1)
    )
    log_in(member.user, PASSWORD)

    page.goto(f"/bookings/machine/{machine.slug}/?week={next_monday.isoformat()}")
    page.wait_for_function("window.htmx !== undefined")
    page.get_by_label(
        f"Booked: join the waitlist for {slot:%a} {slot.day} {slot:%b %Y}, 10:00"
    ).first.click()
    page.get_by_role("button", name="Join the waitlist").click()  # asks first, in the panel
    page.get_by_text("You are on the waitlist for Laser cutter A").wait_for()
    assert page.get_by_text("You're waiting").count() == 2  # both booked rows

    mail.outbox.clear()
    services.booking_cancel(booking=booking, actor=holder.user)
    assert Wait.objects.get(member=member).state == WaitState.OFFERED
    offer = next(m for m in mail.outbox if m.to == [member.user.email])
    link = re.search(r"https?://\S+(/bookings/waits/\d+/offer/)", offer.body)[1]

    page.goto(link)
    page.get_by_role("button", name="Book it").click()
    page.get_by_text("Booked Laser cutter A").wait_for()
    assert page.url.endswith("/bookings/")
    mine = Booking.objects.get(member=member)
    assert (mine.start, mine.state) == (slot, BookingState.CONFIRMED)
