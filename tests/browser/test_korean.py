"""The site in Korean, in Chromium: a member picks 한국어 in the footer's switcher and reads the
dashboard, the menus and billing in Korean (dates as 2026년 12월 8일 (화), won as 100,000원), books
a machine, and the choice holds on every page until switched back; a visitor whose browser asks
for Korean (Accept-Language) gets the public pages and the log-in in Korean; gate staff reading
Korean watch the machines live and check a badge in Korean."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from access.models import AccessEvent, AccessSource
from access.policy import Reason
from bookings.models import Booking
from core import formats
from tests.access.conftest import build_scene
from tests.factories.access import GateDeviceFactory
from tests.factories.equipment import MachineFactory
from tests.factories.membership import PASSWORD, PlanFactory, UserFactory, ready_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture
def korean_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ko-KR")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def _shoot(page, tmp_path, name: str) -> None:
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=tmp_path / f"ko-{name}-{size}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_a_member_switches_to_korean_reads_the_site_and_books(page, log_in, tmp_path):
    plan = PlanFactory(name="월간 멤버십", monthly_price_cents=100000, currency="krw")
    member = ready_member(plan=plan)
    member.user.first_name = "지민"
    member.user.save()
    machine = MachineFactory(name="레이저 커터 A", slug="laser-a", required_certification=None)

    log_in(member.user, PASSWORD)
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_label("Language").select_option("ko")
    page.get_by_role("button", name="Change").click()
    page.wait_for_url("**/dashboard/")
    assert page.locator("html").get_attribute("lang") == "ko"
    page.get_by_role("heading", name="지민님, 안녕하세요").wait_for()
    nav = page.get_by_role("navigation", name="주 메뉴")
    for label in ("홈", "장비", "내 예약", "교육 과정"):
        assert nav.get_by_role("link", name=label, exact=True).count() == 1
    page.get_by_role("heading", name="만들 준비가 되었습니다").wait_for()
    assert "월간 멤버십 · 월 100,000원" in page.locator("#membership-h + p").inner_text()
    with translation.override("ko"):
        paid_through = formats.format_date(member.membership.current_period_end)
    assert "년" in paid_through and "(" in paid_through
    page.get_by_text(f"{paid_through}까지 결제됨").wait_for()
    _shoot(page, tmp_path, "dashboard")

    page.goto("/billing/")
    page.get_by_role("heading", name="결제", exact=True).wait_for()
    page.get_by_role("heading", name="결제 및 청구 내역").wait_for()
    _shoot(page, tmp_path, "billing")

    # A booking, in Korean, on the machine page's calendar: a free slot next week.
    today = timezone.localdate()
    next_monday = today + timedelta(days=7 - today.weekday())
    page.goto(f"/bookings/machine/{machine.slug}/?week={next_monday.isoformat()}")
    page.wait_for_function("window.htmx !== undefined")
    assert page.locator("html").get_attribute("lang") == "ko"
    page.locator('td[data-status="free"] a').first.click()
    page.locator("#booking-area form button[type=submit]").click()
    page.locator('td[data-status="mine"]').first.wait_for()
    booking = Booking.objects.get()
    assert booking.member == member
    _shoot(page, tmp_path, "booking")

    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="홈").click()
    with translation.override("ko"):
        when = formats.format_span(booking.start, booking.end)
    assert when.startswith(f"{booking.start.astimezone(timezone.get_current_timezone()).year}년")
    page.get_by_text(when).wait_for()
    _shoot(page, tmp_path, "dashboard-booked")

    # Back to English the same way; the choice sticks from page to page.
    page.get_by_label("언어").select_option("en")
    page.get_by_role("button", name="변경").click()
    page.get_by_role("heading", name="Hello, 지민").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto("/billing/")
    page.get_by_role("heading", name="Billing", exact=True).wait_for()


def test_a_browser_asking_for_korean_gets_the_public_pages_in_korean(korean_page, tmp_path):
    page = korean_page
    PlanFactory(name="월간 멤버십", monthly_price_cents=100000, currency="krw")
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "ko"
    page.get_by_role("heading", name="멤버십").wait_for()
    assert "월 100,000원" in page.locator(".join-steps").inner_text()
    _shoot(page, tmp_path, "home")
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="로그인").click()
    page.get_by_role("heading", name="로그인").wait_for()
    page.get_by_role("button", name="로그인", exact=True).wait_for()
    _shoot(page, tmp_path, "login")


def test_gate_staff_reading_korean_watch_the_machines_and_check_a_badge(page, log_in, tmp_path):
    """The live page and the web check in the staff member's own language (User.language): the
    decision's reason, English on the wire, reads in Korean."""
    scene = build_scene()
    device = GateDeviceFactory(machine=scene.machine, online=True, last_seen=timezone.now())
    AccessEvent.objects.create(
        at=timezone.now(),
        source=AccessSource.GATE,
        badge_uid="04:AA:BB:CC",
        device=device,
        machine=scene.machine,
        allowed=False,
        reason=Reason.UNKNOWN_BADGE,
    )
    log_in(UserFactory(role="Staff", language="ko"), PASSWORD)

    page.goto("/access/live/")
    page.get_by_role("heading", name="장비 실시간 현황").wait_for()
    card = page.get_by_role("region", name=scene.machine.name)
    card.get_by_text("온라인", exact=True).wait_for()
    card.get_by_text("전원 꺼짐").wait_for()
    refused = card.locator("li.decision.refused")
    refused.get_by_text("거부").wait_for()
    refused.get_by_text("등록되지 않은 배지입니다").wait_for()
    assert "not registered" not in card.inner_text()
    _shoot(page, tmp_path, "gates-live")

    page.get_by_role("link", name="출입 카드 확인").click()
    page.get_by_role("heading", name="이 출입 카드로 지금 장비를 켤 수 있습니까?").wait_for()
    page.get_by_label("장비").select_option(label=scene.machine.name)
    page.get_by_label("출입 카드 UID").fill(scene.badge_uid)  # membership's word wins the merge
    page.get_by_role("button", name="확인", exact=True).click()
    decision = page.locator("[data-reason]")
    decision.get_by_text("허용", exact=True).wait_for()
    decision.get_by_text("환영합니다! 예약이 끝날 때까지 장비가 켜져 있습니다.").wait_for()
    assert "까지" in decision.inner_text()  # the grant's end, the Korean way
    _shoot(page, tmp_path, "gates-check")
