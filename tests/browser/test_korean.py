"""The site in Korean, in Chromium: a member picks 한국어 in the footer's switcher and reads the
dashboard, the menus and billing in Korean (dates as 2026년 12월 8일 (화), won as 100,000원), books
a machine, and the choice holds on every page until switched back; a visitor whose browser asks
for Korean (Accept-Language) gets the public pages and the log-in in Korean."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from bookings.models import Booking
from core import formats
from membership import roles
from tests.config.test_templates_marked import _english as english_words
from tests.factories.equipment import MachineFactory
from tests.factories.membership import PASSWORD, PlanFactory, UserFactory, ready_member
from tests.factories.training import CertificationFactory, ClassSessionFactory

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


# Left out when looking for English: addresses and the words the same in every language.
_NOT_WORDS = re.compile(r"\S+@\S+|https?://\S+")


def _english_left(page, *, leave_out: str = "") -> list[str]:
    """The English words left in the page's main part (its own sentences and ours), without the
    parts `leave_out` selects (another app's fragments, translated with its own pages)."""
    text = page.evaluate(
        """(leaveOut) => {
            const main = document.querySelector("main").cloneNode(true);
            if (leaveOut) main.querySelectorAll(leaveOut).forEach((part) => part.remove());
            const read = [...main.querySelectorAll("[placeholder], [aria-label], [title]")]
                .flatMap((e) => ["placeholder", "aria-label", "title"].map((a) => e.getAttribute(a) || ""));
            return [main.innerText, ...read].join("\\n");
        }""",
        leave_out,
    )
    return english_words(_NOT_WORDS.sub(" ", text))


def test_a_member_reading_korean_enrols_in_a_class_and_reads_a_machine_page(page, log_in, tmp_path):
    """Classes, a class and a machine, as a member whose language is Korean sees them: no
    English sentence left (the names are Korean data)."""
    member = ready_member()
    member.user.first_name, member.user.last_name, member.user.language = "지민", "박", "ko"
    member.user.save()
    instructor = UserFactory(first_name="하나", last_name="김", role=roles.INSTRUCTOR)
    laser = CertificationFactory(
        name="레이저 커터", slug="laser", validity_months=12, instructors=[instructor]
    )
    start = (timezone.now() + timedelta(days=3)).replace(hour=18, minute=0, second=0)
    session = ClassSessionFactory(
        certification=laser, instructor=instructor, capacity=2, place="강의실", start=start
    )
    machine = MachineFactory(
        name="레이저 커터 A",
        slug="laser-a",
        description="60와트 이산화탄소 레이저입니다.",
        required_certification=laser,
        buffer_minutes=10,
    )

    log_in(member.user, PASSWORD)  # no choice on this device yet: their own language
    day = timezone.localdate(session.start).isoformat()
    page.goto(f"/training/?date={day}")
    assert page.locator("html").get_attribute("lang") == "ko"
    page.get_by_role("heading", name="교육 과정", exact=True).wait_for()
    row = page.locator(f'tr[data-session="{session.pk}"]')
    assert "2석 중 2석 남음" in row.inner_text()
    row.get_by_role("button", name="신청하기").click()
    row.get_by_text("신청됨").wait_for()
    assert _english_left(page) == []
    _shoot(page, tmp_path, "classes")

    row.get_by_role("link", name="레이저 커터").click()
    page.get_by_role("heading", name="레이저 커터 교육").wait_for()
    page.get_by_text("자리가 확정되었습니다").wait_for()
    page.get_by_text("손님 데려오기").first.wait_for()
    assert _english_left(page) == []
    _shoot(page, tmp_path, "class")

    # The week's calendar and the booking status are the bookings app's, checked with its pages.
    page.route("**/bookings/**", lambda route: route.abort())
    page.goto(f"/machines/{machine.slug}/")
    page.get_by_role("heading", name="문제 신고").wait_for()
    page.get_by_text("레이저 커터 인증 필요").wait_for()
    page.get_by_text("예약마다 끝난 뒤 10분 비워 둠").wait_for()
    assert _english_left(page, leave_out=".booking-status") == []
    _shoot(page, tmp_path, "machine")
