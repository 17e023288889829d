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


def test_a_member_on_a_phone_waits_for_part_of_a_booking(page, log_in):
    """Someone holds 14:00-18:00; from the 15:00 slot on a phone, a member waits for 15:00-16:00
    only: the panel opens where they tapped, offers the lengths they could book (preselected to
    the booking's end), and the wait is for the hour chosen."""
    holder, member = ready_member(), ready_member()
    machine = MachineFactory(name="Laser cutter A", slug="laser-a", required_certification=None)
    today = timezone.localdate()
    tuesday = today + timedelta(days=7 - today.weekday() + 1)
    zone = timezone.get_current_timezone()
    held = datetime.combine(tuesday, time(14), tzinfo=zone)
    services.booking_create(member=holder, machine=machine, start=held, end=held.replace(hour=18))
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(member.user, PASSWORD)

    page.goto(f"/bookings/machine/{machine.slug}/?day={tuesday.isoformat()}")
    page.wait_for_function("window.htmx !== undefined")
    wanted = held.replace(hour=15)
    slot = page.get_by_label(
        f"Booked: join the waitlist for {wanted:%a} {wanted.day} {wanted:%b %Y}, 15:00"
    )
    slot.scroll_into_view_if_needed()
    slot.click()
    panel = page.locator("#booking-panel .wait-confirm")
    panel.wait_for()
    box, width = panel.bounding_box(), page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width  # no sideways scrolling on a phone
    length = page.get_by_role("combobox", name="Length")
    assert length.input_value() == "180"  # up to the end of the booking tapped
    length.select_option(label="1 h")
    page.get_by_role("button", name="Join the waitlist").click()
    page.get_by_text("You are on the waitlist for Laser cutter A").wait_for()
    wait = Wait.objects.get(member=member)
    assert (wait.start, wait.end) == (wanted, wanted.replace(hour=16))
    waiting = page.locator("td[data-status=taken]", has_text="You're waiting")
    assert waiting.count() == 2  # 15:00 and 15:30, not the rest of the booking
    assert waiting.first.is_visible()  # back on the day waited for, not its week's Monday
