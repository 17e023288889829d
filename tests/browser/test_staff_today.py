"""The desk's Today screen in a real browser: it follows the day without a reload (a member's
safety report takes a machine out of service and shows up), at desktop, tablet and phone sizes."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from equipment import services
from equipment.models import Severity
from tests.factories.access import GateDeviceFactory
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory
from tests.factories.membership import PASSWORD, MemberFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set to a folder to keep the screenshots (they are looked at by a person, not compared).
SHOTS = os.environ.get("TOOLGATE_SCREENSHOTS")
SIZES = {"desktop": (1280, 800), "tablet": (820, 1180), "phone": (390, 844)}


def test_today_follows_a_safety_report_without_a_reload(page, log_in, settings):
    settings.TODAY_POLL_SECONDS = 1
    laser = MachineFactory(name="Laser cutter", slug="laser")
    GateDeviceFactory(machine=laser, device_id="gate-laser", online=True)
    MachineFactory(name="Bandsaw", slug="bandsaw")
    maker = MemberFactory(user__first_name="Maya", user__last_name="Maker")
    MembershipFactory(member=maker)
    now = timezone.now().replace(second=0, microsecond=0)
    BookingFactory(machine=laser, member=maker, start=now + timedelta(minutes=40))
    log_in(UserFactory(role="Staff"), PASSWORD)

    page.goto("/staff/today/")
    row = page.locator("tr[data-machine=laser]")
    row.get_by_text("Maya Maker").wait_for()
    row.get_by_text("online").wait_for()
    page.get_by_text("No open reports.").wait_for()

    services.problem_report_create(
        machine=laser,
        reporter=maker.user,
        description="Smoke from the exhaust " + "x" * 300,
        severity=Severity.SAFETY,
        token=uuid.uuid4(),
    )
    row.get_by_text("Out of service").wait_for()
    page.get_by_text("1 unsafe · 0 broken · 0 minor").wait_for()
    # Long unbroken text stays inside the page.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280

    for name, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.goto("/staff/today/")
        row.get_by_text("Out of service").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= w + 1, name
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SHOTS}/today-{name}.png", full_page=True)


def test_staff_walk_today_set_up_a_certification_publish_a_waiver_and_read_utilization(
    page, log_in
):
    from console.services import utilization_rollup
    from tests.factories.access import UsageSessionFactory
    from tests.factories.membership import WaiverFactory
    from training.models import Certification

    laser = MachineFactory(name="Laser cutter", slug="laser")
    gate = GateDeviceFactory(machine=laser, online=True)
    now = timezone.now()
    UsageSessionFactory(
        device=gate, started_at=now - timedelta(hours=3), ended_at=now - timedelta(hours=1)
    )
    BookingFactory(machine=laser, start=now - timedelta(hours=3), end=now - timedelta(hours=1))
    utilization_rollup(start=now - timedelta(hours=4), end=now)
    WaiverFactory(version=1, title="Shop safety waiver", text="Wear eye protection.")
    MembershipFactory()  # one member who will have to sign again
    log_in(UserFactory(role="Staff"), PASSWORD)

    page.locator("summary", has_text="Staff").click()  # the grouped staff menu
    page.get_by_role("link", name="Today", exact=True).click()
    page.get_by_role("heading", name="Machines").wait_for()
    page.locator("tr[data-machine=laser]").get_by_text("online").wait_for()

    page.locator("summary", has_text="Staff").click()
    page.get_by_role("link", name="Setup", exact=True).click()
    page.get_by_role("link", name="New certification").click()
    page.get_by_label("Name").fill("Laser cutter basics")
    page.get_by_label("Valid for (months)").fill("24")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Laser cutter basics saved.").wait_for()
    assert Certification.objects.get(name="Laser cutter basics").validity_months == 24

    page.get_by_role("link", name="Publish a new version").click()
    page.get_by_label("Waiver text").fill("Wear eye protection and tie long hair back.")
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Version 2 published: 1 member(s) must sign it").wait_for()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/setup-desktop.png", full_page=True)

    page.locator("summary", has_text="Staff").click()
    page.get_by_role("link", name="Reports", exact=True).click()
    page.get_by_role("link", name="Utilization").click()
    chart = page.get_by_role("img", name="Booked and powered hours per machine")
    chart.wait_for()
    assert "Laser cutter, Powered: 2.0 h" in chart.inner_html()
    row = page.get_by_role("row", name="Laser cutter")
    assert row.get_by_role("cell").all_inner_texts() == ["2.0", "2.0", "100%"]
    for name, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        assert page.evaluate("document.documentElement.scrollWidth") <= w + 1, name
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/utilization-{name}.png", full_page=True)
