"""On the fall-back night a member books the repeated hour's second pass from the grid, in a real
browser, at desktop and phone sizes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bookings.models import Booking
from tests.factories.equipment import MachineFactory
from tests.factories.membership import PASSWORD, ready_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LA = ZoneInfo("America/Los_Angeles")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def before_the_fall_back():
    """Wednesday 3 November 2027, noon in Los Angeles; the clock runs on from there."""
    with time_machine.travel(datetime(2027, 11, 3, 12, tzinfo=LA), tick=True):
        yield


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_book_the_second_0100_on_the_fall_back_night(
    page, log_in, before_the_fall_back, viewport, tmp_path
):
    member = ready_member()
    MachineFactory(name="Night laser", slug="night-laser", required_certification=None)
    page.set_viewport_size(viewport)
    log_in(member.user, PASSWORD)

    # The night's day: a phone shows one day at a time.
    page.goto("/bookings/machine/night-laser/?day=2027-11-07")
    page.wait_for_function("window.htmx !== undefined")
    headers = page.locator("tbody th[scope=row]").all_inner_texts()
    assert headers[:7] == [
        "00:00",
        "00:30",
        "01:00 PDT",
        "01:30 PDT",
        "01:00 PST",
        "01:30 PST",
        "02:00",
    ]
    page.get_by_text("the clocks go back an hour").wait_for()
    page.screenshot(path=tmp_path / "fall-back-grid.png", full_page=False)

    second = page.get_by_label("Free: Sun 7 Nov 2027, 01:00 PST")
    second.scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / "fall-back-grid-repeated-hour.png")
    second.click()
    page.get_by_role("combobox", name="Length").select_option("60")
    page.get_by_role("button", name="Book", exact=True).click()

    page.get_by_text("Booked Night laser, Sun 7 Nov 2027, 01:00 PST to 02:00.").wait_for()
    booking = Booking.objects.get()
    assert (booking.start, booking.end) == (
        datetime(2027, 11, 7, 9, 0, tzinfo=UTC),  # 01:00 PST
        datetime(2027, 11, 7, 10, 0, tzinfo=UTC),  # 02:00 PST: one real hour
    )
    mine = page.locator('td[data-status="mine"]')
    assert mine.count() == 2  # the second pass of 01:00 and 01:30, not the first
    assert (
        page.locator('td[data-status="mine"][data-start="2027-11-07T01:00:00-08:00"]').count() == 1
    )
    assert (
        page.locator('td[data-start="2027-11-07T01:00:00-07:00"]').get_attribute("data-status")
        == "free"
    )
    mine.first.scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / "fall-back-grid-booked.png")


def test_the_spring_forward_night_has_no_0200_slot(page, log_in, tmp_path):
    """Sunday 14 March 2027: the 02:00 and 02:30 rows have a dash, not a slot, on that day only."""
    with time_machine.travel(datetime(2027, 3, 10, 12, tzinfo=LA), tick=True):
        member = ready_member()
        MachineFactory(name="Night laser", slug="night-laser", required_certification=None)
        page.set_viewport_size(DESKTOP)
        log_in(member.user, PASSWORD)
        page.goto("/bookings/machine/night-laser/?week=2027-03-08")
        page.get_by_text("the clocks go forward an hour").wait_for()
        row = page.locator("tbody tr", has=page.locator("th", has_text="02:00"))
        cells = row.locator("td")
        assert cells.nth(6).get_attribute("data-status") == "none"
        assert cells.nth(6).locator("a").count() == 0
        assert cells.nth(5).get_by_role("link", name="Free: Sat 13 Mar 2027, 02:00").count() == 1
        assert page.locator('td[data-start^="2027-03-14T02"]').count() == 0
        row.scroll_into_view_if_needed()
        page.screenshot(path=tmp_path / "spring-forward-grid.png")
