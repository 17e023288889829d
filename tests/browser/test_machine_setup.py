"""Staff set a machine's opening hours on its edit page and see them on its week calendar."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from equipment.selectors import opening_intervals
from membership import roles
from tests.factories.equipment import MachineFactory
from tests.factories.membership import PASSWORD, UserFactory

DASH = "\N{EN DASH}"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_open_a_machine_on_tuesday_mornings_and_its_calendar_shows_it(page, log_in):
    staff = UserFactory(role=roles.STAFF)
    machine = MachineFactory(
        name="CNC router", slug="cnc-router", required_certification=None, slot_minutes=60
    )
    log_in(staff, PASSWORD)

    page.goto(f"/machines/{machine.slug}/")
    page.get_by_role("link", name="Edit machine").click()
    panel = page.locator("#opening-hours")
    assert "No opening hours set" in panel.inner_text()
    panel.get_by_label("Tuesday").check()
    panel.get_by_label("Opens").fill("10:00")
    panel.get_by_label("Closes").fill("12:00")
    panel.get_by_role("button", name="Add hours").click()
    page.get_by_text("Opening hours added.").wait_for()
    tuesday = page.locator('#opening-hours tr[data-weekday="1"]')
    assert f"10:00{DASH}12:00" in tuesday.inner_text()
    assert "Closed" in page.locator('#opening-hours tr[data-weekday="0"]').inner_text()
    assert [(i.weekday, f"{i.opens:%H:%M}") for i in opening_intervals(machine)] == [(1, "10:00")]

    # Next week, so no slot is in the past whatever the clock says.
    today = timezone.localdate()
    monday = today + timedelta(days=7 - today.weekday())
    page.goto(f"/bookings/machine/{machine.slug}/?week={monday.isoformat()}")
    grid = page.get_by_role("table", name=f"CNC router: week of {monday:%a %-d %b %Y}")
    # Open slots, whether this staff member could book them (free) or not (ahead, locked).
    free = grid.locator('td[data-status="free"], td[data-status="ahead"], td[data-status="locked"]')
    grid.locator("td[data-status]").first.wait_for()  # the grid arrives through htmx
    assert free.count() == 2  # Tuesday 10:00 and 11:00
    starts = {free.nth(n).get_attribute("data-start")[:16] for n in range(2)}
    tuesday_date = (monday + timedelta(days=1)).isoformat()
    assert starts == {f"{tuesday_date}T10:00", f"{tuesday_date}T11:00"}
    assert grid.locator('td[data-status="closed"]').count() == 2 * 6  # the other six days

    # Removed in place, the hours are gone: none are set, so members may book at any time.
    page.goto(f"/machines/{machine.slug}/edit/")
    page.get_by_role("button", name=f"Remove Tuesday 10:00{DASH}12:00").click()
    page.get_by_text("Opening hours removed.").wait_for()
    assert "No opening hours set" in page.locator("#opening-hours").inner_text()
    assert opening_intervals(machine) == []
