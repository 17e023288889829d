"""The site in Korean, in Chromium: a member picks 한국어 in the footer's switcher and reads the
dashboard, the menus and billing in Korean (dates as 2026년 12월 8일 (화), won as 100,000원), books
a machine, and the choice holds on every page until switched back; a visitor whose browser asks
for Korean (Accept-Language) gets the public pages and the log-in in Korean; gate staff reading
Korean watch the machines live and check a badge in Korean."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone, translation

from access.models import AccessEvent, AccessSource
from access.policy import Reason
from bookings import services, waitlist
from bookings.models import Booking
from core import formats
from membership import roles
from tests.access.conftest import build_scene
from tests.config.test_templates_marked import _english as english_words
from tests.factories.access import GateDeviceFactory
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


# What may stay Latin on a Korean page: addresses and the words every language writes alike.
LATIN = re.compile(r"https?://\S+|\b(?:iCal|PST|PDT|UTC)\b")
READ_ATTRIBUTES = ("aria-label", "title", "data-confirm", "hx-confirm", "placeholder", "alt")


def _latin_left(page) -> list[str]:
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
    assert _latin_left(page) == []
    _shoot(page, tmp_path, "week-grid")

    # The panel a free slot opens, and the waitlist's for another's booking.
    page.locator('td[data-status="free"] a').first.click()
    page.get_by_role("button", name="예약하기").wait_for()
    assert _latin_left(page) == []

    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="내 예약").click()
    page.get_by_role("heading", name="내 예약", exact=True).wait_for()
    for heading in ("다가오는 예약", "대기 중인 시간", "지난 예약과 취소된 예약", "캘린더 피드"):
        page.get_by_role("heading", name=heading).wait_for()
    assert page.locator("tr[data-booking] .pill").first.inner_text() == "확정"
    page.get_by_text("일정 변경").wait_for()
    assert _latin_left(page) == []
    _shoot(page, tmp_path, "my-bookings")
