"""A member books a machine by clicking a free slot on the week grid, sees it, and cancels it."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking, BookingState
from tests.factories.equipment import MachineFactory
from tests.factories.membership import PASSWORD, ready_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_book_a_slot_on_the_grid_see_it_and_cancel_it(page, log_in):
    member = ready_member()
    machine = MachineFactory(name="Laser cutter A", slug="laser-a", required_certification=None)
    # A slot next week, so the test never books into the past whatever the clock says.
    today = timezone.localdate()
    next_monday = today + timedelta(days=7 - today.weekday())
    slot = datetime.combine(
        next_monday + timedelta(days=1), time(10), tzinfo=timezone.get_current_timezone()
    )
    log_in(member.user, PASSWORD)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)

    page.goto(f"/bookings/machine/{machine.slug}/?week={next_monday.isoformat()}")
    page.wait_for_function("window.htmx !== undefined")  # the grid's partial updates work
    assert failed == []  # every script and stylesheet the page asks for is served
    page.get_by_label(f"Free: {slot:%a} {slot.day} {slot:%b %Y}, 10:00").click()
    page.get_by_role("combobox", name="Length").select_option("60")
    page.get_by_role("button", name="Book", exact=True).click()

    page.get_by_text("Booked Laser cutter A").wait_for()
    mine = page.locator('td[data-status="mine"]')
    assert mine.count() == 2  # two 30-minute rows
    booking = Booking.objects.get()
    assert (booking.member, booking.start, booking.end) == (member, slot, slot + timedelta(hours=1))

    page.get_by_role("link", name="Cancel booking").click()  # asks first, in the panel
    page.get_by_role("button", name="Yes, cancel it").click()
    page.get_by_text("Cancelled your Laser cutter A booking").wait_for()
    assert page.locator('td[data-status="mine"]').count() == 0
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED


def test_the_machine_page_loads_its_calendar_in_place_and_books_from_it(page, log_in):
    member = ready_member()
    machine = MachineFactory(name="Laser cutter A", slug="laser-a", required_certification=None)
    log_in(member.user, PASSWORD)

    page.goto(f"/machines/{machine.slug}/")
    page.locator('td[data-status="free"] a').last.click()  # the calendar came in by htmx
    page.get_by_role("button", name="Book", exact=True).click()

    page.get_by_text("Booked Laser cutter A").wait_for()
    assert page.url.endswith(f"/machines/{machine.slug}/")  # never left the machine page
    assert page.locator("header.topbar").count() == 1  # the grid, not a page inside the page
    assert Booking.objects.get().member == member


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 800}, {"width": 390, "height": 844}],
    ids=["desktop", "phone"],
)
def test_a_booking_changes_only_its_cells_and_the_notice(page, log_in, viewport):
    """The answer swaps the notice, closes the panel and replaces the booked cells in place: the
    grid around them is the same element, where it was (a phone still shows the booked day)."""
    page.set_viewport_size(viewport)
    member = ready_member()
    machine = MachineFactory(name="Laser cutter A", slug="laser-a", required_certification=None)
    today = timezone.localdate()
    next_monday = today + timedelta(days=7 - today.weekday())
    day = next_monday + timedelta(days=2)
    slot = datetime.combine(day, time(14), tzinfo=timezone.get_current_timezone())
    log_in(member.user, PASSWORD)
    page.goto(f"/bookings/machine/{machine.slug}/?day={day.isoformat()}")
    page.wait_for_function("window.htmx !== undefined")
    # Nothing (the calendar feed's long address, say) makes the page wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.evaluate("document.querySelector('table.week-grid').dataset.before = 'yes'")

    page.get_by_label(f"Free: {slot:%a} {slot.day} {slot:%b %Y}, 14:00").click()
    page.get_by_role("combobox", name="Length").select_option("60")
    page.get_by_role("button", name="Book", exact=True).click()

    page.get_by_text("Booked Laser cutter A").wait_for()
    mine = page.locator('td[data-status="mine"]')
    assert mine.count() == 2 and mine.first.is_visible()
    assert page.locator("table.week-grid[data-before='yes']").count() == 1  # not re-drawn
    assert page.locator("#booking-panel > *").count() == 0  # the form closed
    assert page.get_by_role("link", name="Cancel booking").is_visible()
    assert Booking.objects.get().start == slot
