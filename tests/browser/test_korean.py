"""The site in Korean, in Chromium: a member picks 한국어 in the footer's switcher and reads the
dashboard, the menus and billing in Korean (dates as 2026년 12월 8일 (화), won as 100,000원), books
a machine, and the choice holds on every page until switched back; a visitor whose browser asks
for Korean (Accept-Language) gets the public pages and the log-in in Korean."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone, translation

from bookings import services, waitlist
from bookings.models import Booking
from core import formats
from tests.factories.equipment import MachineFactory
from tests.factories.membership import PASSWORD, PlanFactory, ready_member

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


# What may stay Latin on a Korean page: addresses and the words every language writes alike.
LATIN = re.compile(r"https?://\S+|\b(?:iCal|PST|PDT|UTC)\b")
READ_ATTRIBUTES = ("aria-label", "title", "data-confirm", "hx-confirm", "placeholder", "alt")


def _english_left(page) -> list[str]:
    """The English words in the page's main part, its text and the attributes people (and
    screen readers) read: none is left on a page wholly in Korean."""
    texts = [page.locator("main").inner_text()]
    texts += page.locator("main").evaluate(
        """(main, names) => [main, ...main.querySelectorAll('*')].flatMap(
            el => names.map(name => el.getAttribute(name) || ''))""",
        list(READ_ATTRIBUTES),
    )
    return sorted(
        {word for text in texts for word in re.findall(r"[A-Za-z]{2,}", LATIN.sub("", text))}
    )


def test_the_week_grid_and_my_bookings_are_wholly_korean(page, log_in, tmp_path):
    """A member who reads Korean sees a machine's week (their booking, another's with the
    waitlist link, the legend) and My bookings (coming up, waiting for, past and cancelled,
    the calendar feed) with no English sentence left, at desktop and phone sizes."""
    member = ready_member()
    member.user.first_name = "지민"
    member.user.language = "ko"  # their own language: the site speaks it on a new device
    member.user.save()
    other = ready_member()
    machine = MachineFactory(name="레이저 커터 A", slug="laser-a", required_certification=None)
    today = timezone.localdate()
    monday = today + timedelta(days=7 - today.weekday())
    zone = timezone.get_current_timezone()

    def at(day: int, hour: int) -> datetime:
        return datetime.combine(monday + timedelta(days=day), time(hour), tzinfo=zone)

    services.booking_create(member=member, machine=machine, start=at(1, 10), end=at(1, 11))
    taken = services.booking_create(member=other, machine=machine, start=at(2, 10), end=at(2, 11))
    waitlist.wait_join(member=member, machine=machine, start=taken.start, end=taken.end)
    dropped = services.booking_create(
        member=member, machine=machine, start=at(3, 14), end=at(3, 15)
    )
    services.booking_cancel(booking=dropped, actor=member.user, reason="일정 변경")

    log_in(member.user, PASSWORD)
    assert page.locator("html").get_attribute("lang") == "ko"
    # Tuesday, the day a phone shows: the member's booking.
    page.goto(f"/bookings/machine/{machine.slug}/?day={at(1, 0).date().isoformat()}")
    page.wait_for_function("window.htmx !== undefined")
    page.get_by_role("heading", name="레이저 커터 A").wait_for()
    with translation.override("ko"):
        week_of = formats.format_date(monday)
    page.get_by_role("table", name=f"레이저 커터 A: {week_of} 주").wait_for()
    assert page.locator('td[data-status="mine"] span').first.inner_text() == "내 예약"
    assert page.get_by_role("link", name="예약됨: ").count() == 0  # the member waits already
    assert page.locator('td[data-status="taken"] .waiting').first.inner_text() == "대기 중"
    assert page.locator('td[data-status="free"] a').first.inner_text() == "예약 가능"
    assert _english_left(page) == []
    _shoot(page, tmp_path, "week-grid")

    # The panel a free slot opens, and the waitlist's for another's booking.
    page.locator('td[data-status="free"] a').first.click()
    page.get_by_role("button", name="예약하기").wait_for()
    assert _english_left(page) == []

    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="내 예약").click()
    page.get_by_role("heading", name="내 예약", exact=True).wait_for()
    for heading in ("다가오는 예약", "대기 중인 시간", "지난 예약과 취소된 예약", "캘린더 피드"):
        page.get_by_role("heading", name=heading).wait_for()
    assert page.locator("tr[data-booking] .pill").first.inner_text() == "확정"
    page.get_by_text("일정 변경").wait_for()
    assert _english_left(page) == []
    _shoot(page, tmp_path, "my-bookings")
