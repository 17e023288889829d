"""Issue 14 in a real browser, at desktop and phone sizes: a night slot on a 24-hour machine, the
booking panel where you clicked, reasons before the click, the running booking at home, the shop
window logged out, one title format and a favicon, and an axe-core scan of the main pages."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from bookings.models import Booking, BookingState
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.membership import PASSWORD, PlanFactory, ready_member
from tests.factories.training import ClassSessionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SIZES = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
AXE = Path(__file__).parent / "axe" / "axe.min.js"


def _next_tuesday():
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday() + 1)


def _in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["y"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] >= 0
        and box["x"] + box["width"] <= size["width"]
    )


@SIZES
def test_a_24_hour_machine_books_at_2330_with_the_panel_where_you_clicked(page, log_in, viewport):
    member = ready_member()
    MachineFactory(name="Laser cutter A", slug="laser-a", required_certification=None)
    day = _next_tuesday()
    page.set_viewport_size(viewport)
    log_in(member.user, PASSWORD)

    page.goto(f"/bookings/machine/laser-a/?day={day.isoformat()}")
    page.wait_for_function("window.htmx !== undefined")
    assert page.locator("tbody th[scope=row]").all_inner_texts()[-1] == "23:30"
    slot = page.get_by_label(f"Free: {day:%a} {day.day} {day:%b %Y}, 23:30")
    slot.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    slot.click()
    panel = page.locator("#booking-panel .booking-form")
    panel.wait_for()
    assert _in_viewport(page, panel)  # the form is where the member looks, not off-screen
    assert page.evaluate("window.scrollY") == scrolled  # and the grid did not move
    assert page.evaluate("document.activeElement.closest('#booking-panel') !== null")
    assert page.get_by_role("combobox", name="Length").input_value() == "30"
    page.get_by_role("button", name="Book", exact=True).click()
    page.get_by_text(f"Booked Laser cutter A, {day:%a} {day.day} {day:%b %Y}, 23:30").wait_for()
    start = datetime.combine(day, time(23, 30), tzinfo=timezone.get_current_timezone())
    assert Booking.objects.get().start == start


@SIZES
def test_a_member_missing_a_certification_sees_why_before_clicking(page, log_in, viewport):
    member = ready_member()
    laser = certification("Laser cutter")
    MachineFactory(name="Laser cutter A", slug="laser-a", required_certification=laser)
    ClassSessionFactory(certification=laser)
    page.set_viewport_size(viewport)
    log_in(member.user, PASSWORD)

    page.goto("/machines/")
    card = page.locator('[data-machine="laser-a"]')
    assert "Needs the Laser cutter certification" in card.inner_text()
    card.get_by_role("link", name="Enrol").wait_for()
    page.goto("/bookings/machine/laser-a/")
    reason = page.locator(".outlook")
    assert "Needs the Laser cutter certification. Next class" in reason.inner_text()
    assert page.locator('td[data-status="free"]').count() == 0
    assert page.locator('td[data-status="locked"]').count() > 0


@SIZES
def test_home_shows_the_running_booking_with_extend_and_im_done(page, log_in, viewport):
    member = ready_member()
    machine = MachineFactory(name="Laser cutter A", slug="laser-a", required_certification=None)
    now = timezone.localtime()
    start = now.replace(minute=now.minute // 30 * 30, second=0, microsecond=0)  # on the grid
    booking = BookingFactory(
        machine=machine,
        member=member,
        start=start,
        end=start + timedelta(hours=1),
        state=BookingState.CHECKED_IN,
    )
    page.set_viewport_size(viewport)
    log_in(member.user, PASSWORD)

    top = page.locator(".now-card")
    assert "Your booking now" in top.inner_text()
    top.get_by_role("button", name="Extend").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    top.get_by_role("button", name="I'm done").click()
    page.get_by_text("Laser cutter A is switched off and free again").wait_for()
    booking.refresh_from_db()
    assert booking.state == BookingState.COMPLETED


@SIZES
def test_a_visitor_sees_price_hours_machines_and_classes(page, viewport, settings):
    PlanFactory(name="Monthly", monthly_price_cents=10000, is_default=True)
    MachineFactory(name="Laser cutter A", required_certification=certification("Laser cutter"))
    ClassSessionFactory(certification=certification("Laser cutter"))
    page.set_viewport_size(viewport)

    page.goto("/")
    text = page.locator("main").inner_text()
    for shown in ("$100.00", settings.SPACE_ADDRESS, "Laser cutter A", "Upcoming classes"):
        assert shown in text
    page.goto("/training/")
    assert "Laser cutter" in page.locator("main").inner_text()
    page.goto("/accounts/signup/")
    assert page.get_by_text("$100.00").is_visible()


MEMBER_PAGES = [
    "/dashboard/",
    "/machines/",
    "/bookings/",
    "/bookings/machine/laser-a/",
    "/training/",
    "/profile/",
    "/billing/",
]
PUBLIC_PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/machines/", "/training/"]


@pytest.fixture
def scene(db):
    PlanFactory(name="Monthly", monthly_price_cents=10000, is_default=True)
    laser = certification("Laser cutter")
    MachineFactory(name="Laser cutter A", slug="laser-a", required_certification=laser)
    ClassSessionFactory(certification=laser)
    member = ready_member()
    certify(member, laser)
    return member


def _visit_all(page, paths, failed):
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        yield path


@SIZES
def test_every_page_has_one_title_format_and_a_favicon(page, log_in, scene, viewport, settings):
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.set_viewport_size(viewport)
    for path in _visit_all(page, PUBLIC_PAGES, failed):
        assert page.title().endswith(f" · {settings.SPACE_NAME}"), path
    log_in(scene.user, PASSWORD)
    for path in _visit_all(page, MEMBER_PAGES, failed):
        title = page.title()
        assert title.count(" · ") == 1 and title.endswith(f" · {settings.SPACE_NAME}"), path
        icon = page.locator('link[rel="icon"]').get_attribute("href")
        assert icon.endswith("favicon.svg")
    assert failed == []  # no 404 for a favicon or anything else


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@SIZES
def test_axe_finds_no_serious_or_critical_violations(page, log_in, scene, viewport):
    page.set_viewport_size(viewport)
    problems = {}
    for path in _visit_all(page, PUBLIC_PAGES, []):
        problems[f"visitor {path}"] = _axe(page)
    log_in(scene.user, PASSWORD)
    for path in _visit_all(page, MEMBER_PAGES, []):
        problems[path] = _axe(page)
    assert {page: found for page, found in problems.items() if found} == {}
