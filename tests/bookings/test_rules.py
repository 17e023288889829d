"""The booking rules as tables: each row is a request and the rule that refuses it (or none)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from bookings import rules
from bookings.rules import BookingFacts, MachineRules, Refusal

ZONE = ZoneInfo("America/Los_Angeles")
KOLKATA = ZoneInfo("Asia/Kolkata")  # UTC+5:30: its local hours are not on a UTC hour grid
# Summer time starts on 31 March 2030 here, three weeks after Los Angeles (the test settings' zone).
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2030, 1, 7, 8, 0, tzinfo=ZONE)  # a Monday morning
T = datetime(2030, 1, 8, 10, 0, tzinfo=ZONE)  # Tuesday 10:00
H = timedelta(hours=1)
M = timedelta(minutes=1)

LASER = MachineRules(
    name="Laser cutter",
    slot_minutes=30,
    min_minutes=30,
    max_minutes=180,
    book_ahead_days=14,
    weekly_hours_per_member=6,
    daily_bookings_per_member=2,
    buffer_minutes=15,
    certification="Laser cutter",
)
OPEN_TUESDAY = [(T.replace(hour=9), T.replace(hour=21))]


def facts(start=T, end=T + H, **kwargs) -> BookingFacts:
    kwargs.setdefault("opening", OPEN_TUESDAY)
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("zone", ZONE)
    return BookingFacts(start=start, end=end, **kwargs)


@pytest.mark.parametrize(
    ("request_facts", "machine", "expected"),
    [
        pytest.param(facts(), LASER, None, id="a plain hour inside opening hours"),
        pytest.param(facts(T, T), LASER, Refusal.ENDS_BEFORE_START, id="zero length"),
        pytest.param(facts(T, T - H), LASER, Refusal.ENDS_BEFORE_START, id="start after end"),
        pytest.param(facts(T, T + 15 * M), LASER, Refusal.TOO_SHORT, id="under the minimum"),
        pytest.param(facts(T, T + 4 * H), LASER, Refusal.TOO_LONG, id="over the maximum"),
        pytest.param(
            facts(T, T + timedelta(days=7), opening=None),
            MachineRules(name="Kiln", max_minutes=7 * 24 * 60),
            None,
            id="exactly the longest booking there is",
        ),
        pytest.param(facts(T + 10 * M, T + H), LASER, Refusal.OFF_GRID, id="start off the grid"),
        pytest.param(facts(T, T + H + 5 * M), LASER, Refusal.OFF_GRID, id="end off the grid"),
        pytest.param(
            facts(T.replace(hour=1, minute=30), T.replace(hour=2, minute=15), opening=None),
            MachineRules(name="Lathe", slot_minutes=45, min_minutes=45),
            None,
            id="a 45-minute grid from midnight: 01:30 to 02:15",
        ),
        pytest.param(
            facts(
                datetime(2030, 1, 8, 10, 0, tzinfo=KOLKATA),
                datetime(2030, 1, 8, 11, 0, tzinfo=KOLKATA),
                zone=KOLKATA,
                opening=None,
            ),
            MachineRules(name="Laser", slot_minutes=60, min_minutes=60),
            None,
            id="the grid is in the space's time zone",
        ),
        pytest.param(
            facts(T, T + H + 30 * M, opening=None),
            LASER,
            None,
            id="always open without opening hours",
        ),
        pytest.param(facts(NOW - H, NOW, opening=None), LASER, Refusal.IN_PAST, id="in the past"),
        pytest.param(
            facts(NOW - 30 * M, NOW + 30 * M, opening=None),
            LASER,
            Refusal.IN_PAST,
            id="a slot that has just ended",
        ),
        pytest.param(
            facts(NOW - 30 * M, NOW + 30 * M, now=NOW - 5 * M, opening=None),
            LASER,
            None,
            id="walk-up: the slot running now",
        ),
        pytest.param(
            facts(T + timedelta(days=14), T + timedelta(days=14) + H, opening=None),
            LASER,
            Refusal.TOO_FAR_AHEAD,
            id="beyond the booking horizon",
        ),
        pytest.param(
            facts(NOW + timedelta(days=14), NOW + timedelta(days=14) + H, opening=None),
            LASER,
            Refusal.TOO_FAR_AHEAD,
            id="at the booking horizon",
        ),
        pytest.param(
            facts(NOW + timedelta(days=14) - 30 * M, NOW + timedelta(days=14) + H, opening=None),
            LASER,
            None,
            id="the last slot inside the booking horizon",
        ),
        pytest.param(
            facts(
                datetime(2030, 4, 3, 10, 0, tzinfo=BERLIN),
                datetime(2030, 4, 3, 11, 0, tzinfo=BERLIN),
                now=datetime(2030, 3, 20, 10, 0, tzinfo=BERLIN),
                zone=BERLIN,
                opening=None,
            ),
            LASER,
            Refusal.TOO_FAR_AHEAD,
            id="the horizon is 14 calendar days in the space's zone, across its clock change",
        ),
        pytest.param(
            facts(
                datetime(2030, 4, 3, 9, 30, tzinfo=BERLIN),
                datetime(2030, 4, 3, 10, 0, tzinfo=BERLIN),
                now=datetime(2030, 3, 20, 10, 0, tzinfo=BERLIN),
                zone=BERLIN,
                opening=None,
            ),
            LASER,
            None,
            id="the last slot before that horizon",
        ),
        pytest.param(
            facts(),
            MachineRules(name="Laser", state="out_of_service", state_reason="Lens cracked"),
            Refusal.OUT_OF_SERVICE,
            id="machine out of service",
        ),
        pytest.param(
            facts(), MachineRules(name="Laser", state="retired"), Refusal.RETIRED, id="retired"
        ),
        pytest.param(
            facts(may_use_machines=False),
            LASER,
            Refusal.MEMBERSHIP_INACTIVE,
            id="membership not in good standing",
        ),
        pytest.param(facts(certified=False), LASER, Refusal.NOT_CERTIFIED, id="not certified"),
        pytest.param(
            facts(certified=False),
            MachineRules(name="3D printer"),
            None,
            id="no certification required",
        ),
        pytest.param(
            facts(T.replace(hour=20), T.replace(hour=22)),
            LASER,
            Refusal.CLOSED,
            id="runs past closing time",
        ),
        pytest.param(
            facts(T.replace(hour=20), T.replace(hour=21)),
            LASER,
            None,
            id="ends at closing time",
        ),
        pytest.param(
            facts(T.replace(hour=7), T.replace(hour=8)),
            LASER,
            Refusal.CLOSED,
            id="before opening",
        ),
        pytest.param(
            facts(blocks=[(T + 30 * M, T + 2 * H, "Maintenance: new lens")]),
            LASER,
            Refusal.BLOCKED,
            id="overlaps maintenance",
        ),
        pytest.param(
            facts(blocks=[(T - H, T + 30 * M, "Class: Laser cutter")]),
            LASER,
            Refusal.BLOCKED,
            id="overlaps a class session",
        ),
        pytest.param(
            facts(blocks=[(T + H, T + 2 * H, "Class: Laser cutter")]),
            LASER,
            None,
            id="a class right after is fine",
        ),
        pytest.param(
            facts(blocks=[(T - H, T, "Maintenance: new lens")]),
            LASER,
            None,
            id="maintenance ending at the start is fine",
        ),
        pytest.param(
            facts(taken=[(T + 30 * M, T + 2 * H)]), LASER, Refusal.OVERLAP, id="overlaps a booking"
        ),
        pytest.param(
            facts(taken=[(T - H, T + 15 * M)]),
            LASER,
            Refusal.OVERLAP,
            id="inside the previous booking's buffer",
        ),
        pytest.param(
            facts(taken=[(T - H, T)]), LASER, None, id="right after a booking without buffer"
        ),
        pytest.param(
            facts(taken=[(T + H, T + 2 * H)]),
            LASER,
            Refusal.OVERLAP,
            id="own buffer runs into the next booking",
        ),
        pytest.param(
            facts(taken=[(T + H + 15 * M, T + 2 * H)]),
            LASER,
            None,
            id="next booking after own buffer",
        ),
        pytest.param(
            facts(member_week_minutes=5 * 60 + 30),
            LASER,
            Refusal.WEEKLY_QUOTA,
            id="over the weekly hours",
        ),
        pytest.param(facts(member_week_minutes=5 * 60), LASER, None, id="exactly the weekly hours"),
        pytest.param(
            facts(T, T + 3 * H, member_week_minutes=3 * 60),
            LASER,
            None,
            id="three hours more make exactly the weekly hours",
        ),
        pytest.param(
            facts(T, T + 3 * H, member_week_minutes=3 * 60 + 1),
            LASER,
            Refusal.WEEKLY_QUOTA,
            id="three hours more make one minute over the weekly hours",
        ),
        pytest.param(
            facts(member_day_bookings=2), LASER, Refusal.DAILY_QUOTA, id="too many that day"
        ),
        pytest.param(
            facts(member_day_bookings=5, member_week_minutes=100 * 60),
            MachineRules(name="Printer", max_minutes=600),
            None,
            id="zero means no quota",
        ),
    ],
)
def test_booking_rules(request_facts, machine, expected):
    """Each request is refused by the rule named in the table, and only by it."""
    refused = rules.booking_refusal(request_facts, machine)
    assert (refused.reason if refused else None) == expected
    if refused:
        assert refused.message and "{" not in refused.message


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "Laser cutter is already booked at that time."),
        ("ko", "그 시간에는 Laser cutter 장비가 이미 예약되어 있습니다."),
    ],
)
def test_a_refusal_reads_in_the_active_language(language, sentence):
    """A refusal made while Korean is active is a Korean sentence with the machine filled in;
    its reason code stays the same in every language."""
    no_buffer = MachineRules(name="Laser cutter", buffer_minutes=0)
    with translation.override(language):
        refused = rules.check_overlap(T, T + H, [(T, T + H)], no_buffer)
    assert refused is not None
    assert (refused.code, refused.message) == ("overlap", sentence)


def test_a_refusal_with_a_state_reads_wholly_in_korean():
    """The words filled into a sentence (a booking's state) are translated with it."""
    with translation.override("ko"):
        refused = rules.check_in_refusal(
            state="cancelled", start=T, end=T + H, now=NOW, opens_minutes=15
        )
    assert refused is not None
    assert refused.message == "이 예약은 취소 상태라 더 이상 변경할 수 없습니다."


BOOKING = {"start": T, "end": T + H, "now": NOW}


@pytest.mark.parametrize(
    ("refusal", "context", "korean"),
    [
        *(
            (
                rules.cancel_refusal,
                {"is_owner": True, "is_staff": False, "state": state, **BOOKING},
                f"이 예약은 {words} 상태라 더 이상 변경할 수 없습니다.",
            )
            for state, words in [
                ("completed", "완료"),
                ("cancelled", "취소"),
                ("late_cancelled", "취소"),
                ("no_show", "노쇼로 해제"),
            ]
        ),
        (
            rules.check_in_refusal,
            {"state": "checked_in", "opens_minutes": 15, **BOOKING},
            "이 예약은 체크인 상태라 더 이상 변경할 수 없습니다.",
        ),
        (
            rules.class_hold_refusal,
            {"may_teach": True, "cancelled": True, "end": T + H, "now": NOW},
            "이 교육은 취소 상태라 더 이상 장비를 잡아 둘 수 없습니다.",
        ),
        (
            rules.class_hold_refusal,
            {"may_teach": True, "cancelled": False, "end": T, "now": T + H},
            "이 교육은 종료 상태라 더 이상 장비를 잡아 둘 수 없습니다.",
        ),
        (
            rules.check_machine_state,
            {"rules": replace(LASER, state="out_of_service")},
            "Laser cutter 장비는 사용 중지 상태입니다: 사유 없음",
        ),
        (
            rules.accept_refusal,
            {"is_owner": True, "state": "offered", "offer_until": T, "now": T + H},
            "이 제안은 더 이상 유효하지 않습니다 (기한이 지남). "
            "대기자 명단의 다음 회원에게 넘어갈 수 있습니다.",
        ),
        (
            rules.accept_refusal,
            {"is_owner": True, "state": "waiting", "offer_until": None, "now": NOW},
            "이 제안은 더 이상 유효하지 않습니다 (아직 제안되지 않음). "
            "대기자 명단의 다음 회원에게 넘어갈 수 있습니다.",
        ),
        *(
            (
                rules.leave_refusal,
                {"is_owner": True, "state": state},
                f"더 이상 이 대기자 명단에 없습니다 ({words}).",
            )
            for state, words in [
                ("booked", "예약하셨음"),
                ("declined", "거절함"),
                ("lapsed", "제안 기한이 지남"),
                ("left", "명단에서 나가셨음"),
                ("over", "시간이 지남"),
            ]
        ),
    ],
)
def test_the_words_filled_into_a_sentence_are_korean_too(refusal, context, korean):
    """Every state word a refusal names (booking, class, waitlist, a machine's missing reason)
    is translated in its own context, so a Korean sentence never carries an English word."""
    with translation.override("ko"):
        refused = refusal(**context)
    assert refused is not None
    assert refused.message == korean


@pytest.mark.parametrize(
    ("request_facts", "machine", "sentence"),
    [
        (facts(T, T + 15 * M), LASER, "Bookings on Laser cutter last at least 30 minutes."),
        (facts(T, T + 4 * H), LASER, "Bookings on Laser cutter last at most 180 minutes."),
        (
            facts(T + 10 * M, T + H),
            LASER,
            "Bookings on Laser cutter start and end on its 30-minute grid (for example at :00).",
        ),
        (
            facts(T + timedelta(days=14), T + timedelta(days=14) + H, opening=None),
            LASER,
            "Bookings on Laser cutter open 14 days ahead; choose an earlier day.",
        ),
        (
            facts(),
            MachineRules(name="Laser", state="out_of_service", state_reason="Lens cracked"),
            "Laser is out of service: Lens cracked",
        ),
        (
            facts(),
            MachineRules(name="Laser", state="out_of_service"),
            "Laser is out of service: no reason",
        ),
        (
            facts(),
            MachineRules(name="Laser", state="retired"),
            "Laser is retired and cannot be booked.",
        ),
        (
            facts(certified=False),
            MachineRules(name="Laser", certification="Laser safety"),
            "You need the Laser safety certification to book Laser.",
        ),
        (
            facts(T.replace(hour=20), T.replace(hour=22)),
            LASER,
            "Laser cutter is not open for bookings then; see its opening hours.",
        ),
        (
            facts(blocks=[(T + 30 * M, T + 2 * H, "Maintenance: new lens")]),
            LASER,
            "Laser cutter is not available then (Maintenance: new lens).",
        ),
        (
            facts(taken=[(T + 30 * M, T + 2 * H)]),
            LASER,
            "Laser cutter is already booked at that time (with 15 minutes kept free between "
            "bookings).",
        ),
        (
            facts(taken=[(T + 30 * M, T + 2 * H)]),
            MachineRules(name="Printer"),
            "Printer is already booked at that time.",
        ),
        (
            facts(member_week_minutes=5 * 60 + 30),
            LASER,
            "That would take you over 6 booked hours on Laser cutter in that week.",
        ),
        (
            facts(member_day_bookings=2),
            LASER,
            "You already have 2 booking(s) on Laser cutter that day, the most allowed.",
        ),
    ],
)
def test_a_refusal_tells_the_member_what_to_change(request_facts, machine, sentence):
    """The sentence shown on the booking form names the machine and the limit it broke."""
    assert rules.booking_refusal(request_facts, machine).message == sentence


def test_an_extension_is_not_refused_for_having_started():
    """Extending checks length, calendar, overlap and weekly hours, not "in the past"."""
    running = facts(NOW - H, NOW + H, opening=None, extending=True, member_day_bookings=9)
    assert rules.booking_refusal(running, LASER) is None


@pytest.mark.parametrize(
    ("is_owner", "is_staff", "state", "now", "expected"),
    [
        (True, False, "confirmed", T - H, None),
        (False, False, "confirmed", T - H, Refusal.NOT_YOURS),
        (False, True, "confirmed", T - H, None),
        (True, False, "confirmed", T + 10 * M, Refusal.ALREADY_STARTED),
        (False, True, "confirmed", T + 10 * M, None),
        (True, False, "checked_in", T + 10 * M, Refusal.NOT_ACTIVE),
        (False, True, "checked_in", T + 10 * M, None),
        (True, False, "cancelled", T - H, Refusal.NOT_ACTIVE),
        (False, True, "no_show", T + 30 * M, Refusal.NOT_ACTIVE),
        (False, True, "confirmed", T + 2 * H, Refusal.BOOKING_OVER),
        (True, False, "confirmed", T, Refusal.ALREADY_STARTED),
        (False, True, "checked_in", T + H, Refusal.BOOKING_OVER),
    ],
)
def test_cancel_rules(is_owner, is_staff, state, now, expected):
    """Members cancel their own bookings up to the start; staff any active booking until its end."""
    refused = rules.cancel_refusal(
        is_owner=is_owner, is_staff=is_staff, state=state, start=T, end=T + H, now=now
    )
    assert (refused.reason if refused else None) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [(T - 3 * H, "cancelled"), (T - 2 * H, "cancelled"), (T - 119 * M, "late_cancelled")],
)
def test_a_cancellation_close_to_the_start_is_late(now, expected):
    """Cancelling less than the late-cancel window before the start is kept apart as late."""
    assert rules.cancelled_state(start=T, now=now, late_minutes=120) == expected


@pytest.mark.parametrize(
    ("state", "now", "expected"),
    [
        ("confirmed", T - 11 * M, Refusal.CHECK_IN_NOT_OPEN),
        ("confirmed", T - 10 * M, None),
        ("confirmed", T + 50 * M, None),
        ("confirmed", T + H, Refusal.BOOKING_OVER),
        ("checked_in", T, Refusal.NOT_ACTIVE),
        ("no_show", T + 20 * M, Refusal.NOT_ACTIVE),
        ("cancelled", T, Refusal.NOT_ACTIVE),
    ],
)
def test_check_in_rules(state, now, expected):
    """Check-in opens ten minutes before the start and closes at the end."""
    refused = rules.check_in_refusal(state=state, start=T, end=T + H, now=now, opens_minutes=10)
    assert (refused.reason if refused else None) == expected


def test_an_early_check_in_says_when_it_opens():
    refused = rules.check_in_refusal(
        state="confirmed", start=T, end=T + H, now=T - H, opens_minutes=10
    )
    assert refused.message == "Check-in opens 10 minutes before the booking starts."


@pytest.mark.parametrize(
    ("state", "now", "new_end", "expected"),
    [
        ("checked_in", T + 30 * M, T + 2 * H, None),
        ("confirmed", T + 30 * M, T + 2 * H, None),
        ("confirmed", T, T + 2 * H, None),
        ("checked_in", T - 5 * M, T + 2 * H, Refusal.NOT_RUNNING),
        ("checked_in", T + H, T + 2 * H, Refusal.NOT_RUNNING),
        ("checked_in", T + 30 * M, T + H, Refusal.NOT_LATER),
        ("completed", T + 30 * M, T + 2 * H, Refusal.NOT_ACTIVE),
    ],
)
def test_extend_rules(state, now, new_end, expected):
    """Only a running booking extends, and only to a later end."""
    refused = rules.extend_refusal(state=state, start=T, end=T + H, new_end=new_end, now=now)
    assert (refused.reason if refused else None) == expected


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("checked_in", "checked in"),
        ("completed", "completed"),
        ("cancelled", "cancelled"),
        ("late_cancelled", "cancelled"),
        ("no_show", "released as a no-show"),
    ],
)
def test_a_booking_that_is_over_says_what_became_of_it(state, words):
    """Cancel, check in and extend each name the booking's state in words, not its code."""
    sentence = f"This booking is {words}; it can no longer be changed."
    cancel = rules.cancel_refusal(
        is_owner=True, is_staff=False, state=state, start=T, end=T + H, now=T - H
    )
    check_in = rules.check_in_refusal(state=state, start=T, end=T + H, now=T, opens_minutes=10)
    assert cancel.message == check_in.message == sentence
    if state != "checked_in":
        extend = rules.extend_refusal(state=state, start=T, end=T + H, new_end=T + 2 * H, now=T)
        assert extend.message == sentence


@pytest.mark.parametrize(
    ("may_teach", "cancelled", "now", "sentence"),
    [
        (True, False, T - H, None),
        (True, False, T + H - M, None),
        (
            False,
            False,
            T - H,
            "Only this class's instructors and training staff can hold machines for it.",
        ),
        (True, True, T - H, "This class is cancelled; machines can no longer be held for it."),
        (True, False, T + H, "This class is over; machines can no longer be held for it."),
    ],
)
def test_class_hold_rules(may_teach, cancelled, now, sentence):
    """Those who teach a class hold machines for it until it ends, unless it was cancelled."""
    refused = rules.class_hold_refusal(may_teach=may_teach, cancelled=cancelled, end=T + H, now=now)
    assert (refused.message if refused else None) == sentence
    if refused:
        expected = Refusal.NOT_TEACHER if not may_teach else Refusal.CLASS_CLOSED
        assert refused.reason == expected


def test_every_refusal_has_a_sentence():
    """Every reason code comes with a sentence a member understands."""
    for reason in Refusal:
        assert reason.sentence.endswith(".") or reason.sentence.endswith(")s")
        assert reason.value == reason.value.lower()


@pytest.mark.parametrize(
    ("request_facts", "machine", "sentence"),
    [
        (
            facts(plan_covers_location=False),
            MachineRules(name="Laser", location="Raleigh"),
            "Your plan does not include Raleigh, where Laser is. Ask the front desk about a plan "
            "for all locations.",
        ),
        (
            facts(checked_out=False),
            MachineRules(name="Laser", location="Raleigh", checkout="Raleigh laser check-out"),
            "Laser also needs the Raleigh laser check-out, given by the staff at Raleigh.",
        ),
    ],
)
def test_a_refusal_at_another_location_says_what_is_missing_there(request_facts, machine, sentence):
    """A limited plan names the location it leaves out; a local check-out names who gives it."""
    assert rules.booking_refusal(request_facts, machine).message == sentence


@pytest.mark.parametrize(
    ("checkout", "checked_out", "expected"),
    [
        ("Raleigh laser check-out", False, Refusal.LOCAL_CHECKOUT_MISSING),
        ("Raleigh laser check-out", True, None),
        (None, False, None),
    ],
)
def test_a_local_check_out_is_asked_only_by_a_machine_that_needs_one(
    checkout, checked_out, expected
):
    machine = MachineRules(name="Laser", location="Raleigh", checkout=checkout)
    refused = rules.booking_refusal(facts(checked_out=checked_out), machine)
    assert (refused.reason if refused else None) == expected


READY = {"may_use_machines": True, "plan_covers_location": True, "certified": True}


@pytest.mark.parametrize(
    ("member", "machine", "sentence"),
    [
        (READY | {"checked_out": True}, LASER, None),
        (
            {"may_use_machines": False, "plan_covers_location": False, "certified": False}
            | {"checked_out": False},
            MachineRules(name="Laser", state="retired"),
            "Laser is retired and cannot be booked.",
        ),
        (
            {"may_use_machines": False, "plan_covers_location": False, "certified": False}
            | {"checked_out": False},
            MachineRules(name="Laser", state="out_of_service", state_reason="Lens cracked"),
            "Laser is out of service: Lens cracked",
        ),
        (
            READY | {"may_use_machines": False, "certified": False, "checked_out": False},
            LASER,
            "Booking machines needs a paid-up membership, the current safety waiver signed and a "
            "badge.",
        ),
        (
            READY | {"plan_covers_location": False, "certified": False, "checked_out": False},
            MachineRules(name="Laser", location="Raleigh", certification="Laser cutter"),
            "Your plan does not include Raleigh, where Laser is. Ask the front desk about a plan "
            "for all locations.",
        ),
        (
            READY | {"certified": False, "checked_out": False},
            MachineRules(name="Laser", certification="Laser cutter", checkout="Laser check-out"),
            "You need the Laser cutter certification to book Laser.",
        ),
        (
            READY | {"checked_out": False},
            MachineRules(name="Laser", location="Raleigh", checkout="Laser check-out"),
            "Laser also needs the Laser check-out, given by the staff at Raleigh.",
        ),
        (READY | {"certified": False, "checked_out": False}, MachineRules(name="Printer"), None),
    ],
    ids=[
        "ready",
        "retired first",
        "out of service first",
        "standing next",
        "then the plan",
        "then the certification",
        "then the check-out",
        "a machine needing neither",
    ],
)
def test_what_keeps_a_member_from_booking_a_machine_at_all(member, machine, sentence):
    """The calendar and the machine cards say, before any click, the first thing to fix: the
    machine's state, then membership, plan, certification and check-out, as a booking would."""
    refused = rules.member_refusal(rules=machine, **member)
    assert (refused.message if refused else None) == sentence


@pytest.mark.parametrize(
    ("start", "now", "zone", "beyond"),
    [
        (T, NOW, ZONE, False),
        (NOW + timedelta(days=14) - 30 * M, NOW, ZONE, False),
        (NOW + timedelta(days=14), NOW, ZONE, True),
        (NOW - H, NOW, ZONE, False),
        (
            datetime(2030, 4, 3, 10, 0, tzinfo=BERLIN),
            datetime(2030, 3, 20, 10, 0, tzinfo=BERLIN),
            BERLIN,
            True,
        ),
    ],
    ids=[
        "tomorrow",
        "the last slot inside the horizon",
        "at the horizon",
        "a slot that is past is not beyond the horizon",
        "14 calendar days in the space's zone, across its clock change",
    ],
)
def test_the_grid_marks_slots_beyond_the_booking_horizon(start, now, zone, beyond):
    """Slots past how far ahead the machine takes bookings show 'Opens 14 days ahead'."""
    assert rules.beyond_horizon(start, now, LASER, zone) is beyond


LATHE = MachineRules(name="Lathe", slot_minutes=30, min_minutes=60, max_minutes=120)


@pytest.mark.parametrize(
    ("request_facts", "machine", "lengths"),
    [
        (facts(T, T + 3 * H), LASER, [30, 60, 90, 120, 150, 180]),
        (facts(T.replace(hour=19, minute=30), T.replace(hour=22, minute=30)), LASER, [30, 60, 90]),
        (facts(T, T + 3 * H, taken=[(T + 2 * H, T + 3 * H)]), LASER, [30, 60, 90]),
        (facts(T, T + 3 * H, member_week_minutes=5 * 60), LASER, [30, 60]),
        (facts(T, T + 2 * H), LATHE, [60, 90, 120]),
        (facts(T, T + 3 * H, certified=False), LASER, []),
        (
            facts(
                datetime(2030, 1, 8, 10, 0, tzinfo=KOLKATA),
                datetime(2030, 1, 8, 12, 0, tzinfo=KOLKATA),
                zone=KOLKATA,
                opening=None,
            ),
            MachineRules(name="Laser", slot_minutes=60, min_minutes=60, max_minutes=120),
            [60, 120],
        ),
        (
            # 00:00 PDT to 02:00 PST on the fall-back night is three real hours; two are 01:00
            # PST, off the grid, and four end at 03:00, off it too.
            facts(
                datetime(2030, 11, 3, 0, 0, tzinfo=ZONE),
                datetime(2030, 11, 3, 3, 0, tzinfo=ZONE),
                now=datetime(2030, 11, 1, 12, 0, tzinfo=ZONE),
                opening=None,
            ),
            MachineRules(name="Kiln", slot_minutes=120, min_minutes=120, max_minutes=240),
            [180],
        ),
    ],
    ids=[
        "every length up to the longest",
        "up to closing time",
        "up to the next booking's buffer",
        "up to the weekly hours",
        "from the shortest booking, in slots",
        "none for a member who may not book",
        "on the grid of the space's time zone",
        "a two-hour slot across the fall-back night",
    ],
)
def test_the_booking_form_offers_exactly_the_lengths_that_fit(request_facts, machine, lengths):
    """From a start, the form offers each length the booking service would accept, and no
    other; the facts are gathered for the longest one."""
    assert rules.lengths_that_fit(request_facts, machine) == lengths


@pytest.mark.parametrize(
    ("lengths", "now", "default"),
    [
        ([], NOW, None),
        ([30, 60, 90], T - H, 30),
        ([30, 60, 90], T, 30),
        ([30, 60, 90], T + 20 * M, 60),
        ([30, 60, 90], T + 30 * M, 60),
        ([30, 60, 90], T + 70 * M, 90),
        ([60, 90, 120], T + 10 * M, 90),
        ([60, 90, 120], T + 40 * M, 120),
    ],
    ids=[
        "nothing fits",
        "before the start: the shortest",
        "at the start: the shortest",
        "20 minutes in: the shortest leaves 10, an hour leaves 40",
        "30 minutes in: an hour leaves exactly the shortest",
        "70 minutes in: none leaves 30, so the longest (20 left)",
        "10 minutes into a one-hour minimum: an hour leaves 50, 90 minutes leave 80",
        "40 minutes into a one-hour minimum: 90 leaves 50, 120 leaves 80",
    ],
)
def test_the_form_preselects_a_length_that_leaves_real_time(lengths, now, default):
    """A slot already running has lost its past minutes: the preselected length is the shortest
    that still leaves the shortest booking's worth of time, else the longest offered."""
    assert rules.default_length(lengths, start=T, now=now) == default


@pytest.mark.parametrize(
    ("is_owner", "is_staff", "state", "now", "expected"),
    [
        (True, False, "checked_in", T + 30 * M, None),
        (True, False, "confirmed", T, None),
        (False, True, "checked_in", T + 30 * M, None),
        (False, False, "checked_in", T + 30 * M, Refusal.NOT_YOURS),
        (True, False, "completed", T + 30 * M, Refusal.NOT_ACTIVE),
        (True, False, "confirmed", T - M, Refusal.NOT_RUNNING_TO_END),
        (True, False, "checked_in", T + H - M, None),
        (True, False, "checked_in", T + H, Refusal.NOT_RUNNING_TO_END),
        (False, True, "confirmed", T - M, Refusal.NOT_RUNNING_TO_END),
    ],
)
def test_finish_rules(is_owner, is_staff, state, now, expected):
    """'I'm done' ends a running booking, by its member or staff, from its start to its end."""
    refused = rules.finish_refusal(
        is_owner=is_owner, is_staff=is_staff, state=state, start=T, end=T + H, now=now
    )
    assert (refused.reason if refused else None) == expected


def test_finishing_a_booking_that_is_over_says_what_became_of_it():
    refused = rules.finish_refusal(
        is_owner=True, is_staff=False, state="no_show", start=T, end=T + H, now=T + 30 * M
    )
    assert refused.message == "This booking is released as a no-show; it can no longer be changed."


@pytest.mark.parametrize(
    ("is_owner", "is_staff", "same_member", "state", "now", "expected"),
    [
        (True, False, False, "confirmed", T - M, None),
        (False, True, False, "confirmed", T - M, None),
        (False, False, False, "confirmed", T - M, Refusal.NOT_YOURS),
        (True, False, False, "confirmed", T, Refusal.HAND_OVER_CLOSED),
        (False, True, False, "confirmed", T + 10 * M, Refusal.HAND_OVER_CLOSED),
        (True, False, False, "checked_in", T - M, Refusal.HAND_OVER_CLOSED),
        (True, False, False, "cancelled", T - H, Refusal.HAND_OVER_CLOSED),
        (True, False, True, "confirmed", T - M, Refusal.HAND_OVER_SELF),
        (True, False, True, "confirmed", T, Refusal.HAND_OVER_CLOSED),
    ],
)
def test_hand_over_rules(is_owner, is_staff, same_member, state, now, expected):
    """A confirmed booking is handed to another member by its holder or staff, before it starts."""
    refused = rules.hand_over_refusal(
        is_owner=is_owner, is_staff=is_staff, same_member=same_member, state=state, start=T, now=now
    )
    assert (refused.reason if refused else None) == expected


# The waitlist: who may wait, what a freed span means for each waiting member, the offer's clock.

TAKEN = [(T, T + H)]


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"taken": TAKEN}, None),
        ({"held": [(T, T + H, "10:30")]}, None),  # held for another waiting member
        ({}, Refusal.WAIT_FREE),
        ({"taken": TAKEN, "own_taken": TAKEN}, Refusal.WAIT_YOURS),
        ({"taken": TAKEN, "certified": False}, Refusal.NOT_CERTIFIED),
        ({"taken": TAKEN, "may_use_machines": False}, Refusal.MEMBERSHIP_INACTIVE),
        ({"taken": TAKEN, "member_week_minutes": 6 * 60}, Refusal.WEEKLY_QUOTA),
        ({"taken": TAKEN, "blocks": [(T, T + H, "Class")]}, Refusal.BLOCKED),
    ],
)
def test_who_may_wait_for_a_span(kwargs, reason):
    """A member waits only for a span taken by someone else, and only if every other booking
    rule would let them book it: the refusal is the one the booking would get."""
    refused = rules.wait_refusal(facts(**kwargs), LASER)
    assert (refused.reason if refused else None) == reason


# Partial spans: the member chooses the time; LASER keeps 15 minutes free after each booking.
@pytest.mark.parametrize(
    ("start", "end", "taken", "own", "reason"),
    [
        pytest.param(T + H, T + 2 * H, [(T, T + 4 * H)], [], None, id="inside a longer booking"),
        pytest.param(
            T + 3 * H, T + 5 * H, [(T, T + 4 * H)], [], None, id="its end and the free time after"
        ),
        pytest.param(
            T + H,
            T + 3 * H,
            [(T, T + 2 * H), (T + 2 * H + 15 * M, T + 4 * H)],
            [],
            None,
            id="across two bookings",
        ),
        pytest.param(T - H, T, [(T, T + H)], [], None, id="its buffer meets the next booking"),
        pytest.param(
            T - H, T - 30 * M, [(T, T + H)], [], Refusal.WAIT_FREE, id="free with its buffer"
        ),
        pytest.param(
            T + 30 * M,
            T + H,
            [(T - H, T + 15 * M)],
            [],
            Refusal.WAIT_FREE,
            id="after the earlier booking's buffer",
        ),
        pytest.param(
            T + H,
            T + 3 * H,
            [(T, T + 2 * H), (T + 2 * H + 30 * M, T + 4 * H)],
            [(T + 2 * H + 30 * M, T + 4 * H)],
            Refusal.WAIT_YOURS,
            id="part of it is the member's own booking",
        ),
        pytest.param(
            T,
            T + 2 * H,
            [(T - H, T + 15 * M), (T + H, T + 2 * H)],
            [(T - H, T + 15 * M)],
            Refusal.WAIT_YOURS,
            id="the member's own booking's buffer",
        ),
    ],
)
def test_a_member_waits_for_the_span_they_want(start, end, taken, own, reason):
    """Part of one booking, or across several and the free time between: any span the member
    could book but that someone else's booking (or its buffer) takes some of it."""
    refused = rules.wait_refusal(facts(start, end, taken=taken, own_taken=own), LASER)
    assert (refused.reason if refused else None) == reason


@pytest.mark.parametrize(
    ("start", "kwargs", "lengths"),
    [
        pytest.param(T + H, {"taken": [(T, T + 4 * H)]}, [30, 60, 90, 120, 150, 180], id="any"),
        pytest.param(
            T + H,
            {"taken": [(T, T + 4 * H)], "member_week_minutes": 5 * 60},
            [30, 60],
            id="within the weekly hours",
        ),
        pytest.param(
            T + H,
            {"taken": [(T, T + 3 * H + 15 * M)], "own_taken": [(T + 3 * H, T + 4 * H)]},
            [30, 60, 90],
            id="up to the member's own booking",
        ),
        pytest.param(
            T, {"taken": [(T + H, T + 2 * H)]}, [60, 90, 120, 150, 180], id="reaching booked time"
        ),
        pytest.param(T + 10 * H, {"taken": [(T + 10 * H, T + 11 * H)]}, [30, 60], id="to closing"),
    ],
)
def test_the_lengths_a_member_may_wait_for(start, kwargs, lengths):
    """From a start, the lengths the wait panel offers: every rule of booking but "taken" holds,
    and the span meets someone else's booking."""
    assert rules.wait_lengths(facts(start, start + 3 * H, **kwargs), LASER) == lengths


def test_a_partly_freed_span_is_not_offered_until_all_of_it_is_free():
    """What a freed span means for a wait judged on its own span: a part still booked, wait on."""
    wanted = (T + H, T + 3 * H)
    still_booked = rules.booking_refusal(facts(*wanted, taken=[(T + 2 * H, T + 4 * H)]), LASER)
    assert rules.offer_verdict(still_booked) is rules.Verdict.WAIT
    assert rules.offer_verdict(rules.booking_refusal(facts(*wanted), LASER)) is rules.Verdict.OFFER


def test_waiting_beyond_the_horizon_is_refused_as_booking_is():
    """The booking horizon holds for waits too, with the booking's sentence."""
    far = T + timedelta(days=20)
    refused = rules.wait_refusal(facts(far, far + H, opening=None, taken=[(far, far + H)]), LASER)
    assert refused.reason is Refusal.TOO_FAR_AHEAD
    assert "open 14 days ahead" in refused.message


def test_a_span_held_for_a_waiting_member_refuses_others_until_the_deadline():
    """While an offer is open, nobody else books into it, nor into its buffer."""
    held = [(T, T + H + 15 * M, "10:30")]
    refused = rules.booking_refusal(facts(T + H, T + 2 * H, held=held), LASER)
    assert refused.reason is Refusal.HELD
    assert "by 10:30" in refused.message
    assert rules.booking_refusal(facts(T + H + 30 * M, T + 2 * H, held=held), LASER) is None


@pytest.mark.parametrize(
    ("refusal", "verdict"),
    [
        (None, rules.Verdict.OFFER),
        (Refusal.OVERLAP, rules.Verdict.WAIT),
        (Refusal.HELD, rules.Verdict.WAIT),
        (Refusal.BLOCKED, rules.Verdict.WAIT),
        (Refusal.OUT_OF_SERVICE, rules.Verdict.WAIT),
        (Refusal.NOT_CERTIFIED, rules.Verdict.SKIP),
        (Refusal.MEMBERSHIP_INACTIVE, rules.Verdict.SKIP),
        (Refusal.DAILY_QUOTA, rules.Verdict.SKIP),
        (Refusal.IN_PAST, rules.Verdict.OVER),
    ],
)
def test_what_a_freed_span_means_for_a_waiting_member(refusal, verdict):
    """Free for them: offer; still taken for everyone: wait on; refused for them alone (a lost
    certification): pass them over; too late: the wait is over."""
    refused = rules.Refused(refusal, "why") if refusal else None
    assert rules.offer_verdict(refused) is verdict


@pytest.mark.parametrize(
    ("now", "start", "deadline"),
    [
        (NOW, T, NOW + 30 * M),  # a day ahead: the whole offer time
        (T - 10 * M, T, T),  # starts in ten minutes: held until the start
        (T + 5 * M, T, T + 30 * M),  # begun: until its first slot ends (a walk-up booking)
        (T + 30 * M, T, None),  # its first slot is over: too late to offer
    ],
)
def test_an_offer_lasts_its_minutes_but_never_past_the_start(now, start, deadline):
    assert rules.offer_deadline(now=now, start=start, offer_minutes=30, slot_minutes=30) == deadline


@pytest.mark.parametrize(
    ("owner", "state", "until", "reason"),
    [
        (True, "offered", T, None),
        (False, "offered", T, Refusal.NOT_YOURS),
        (True, "offered", NOW, Refusal.OFFER_CLOSED),  # the deadline has come
        (True, "booked", T, Refusal.OFFER_CLOSED),  # taken already (a second click)
        (True, "waiting", None, Refusal.OFFER_CLOSED),
    ],
)
def test_an_offer_is_taken_by_its_member_before_its_deadline(owner, state, until, reason):
    refused = rules.accept_refusal(is_owner=owner, state=state, offer_until=until, now=NOW)
    assert (refused.reason if refused else None) == reason


@pytest.mark.parametrize(
    ("owner", "state", "reason"),
    [
        (True, "waiting", None),
        (True, "offered", None),
        (False, "waiting", Refusal.NOT_YOURS),
        (True, "left", Refusal.WAIT_CLOSED),
    ],
)
def test_a_member_leaves_their_own_open_wait(owner, state, reason):
    refused = rules.leave_refusal(is_owner=owner, state=state)
    assert (refused.reason if refused else None) == reason


def test_the_sentences_a_member_reads_when_they_may_not_wait():
    free = rules.wait_refusal(facts(), LASER)
    assert free.message == "Laser cutter is free then: book it instead of waiting."
    yours = rules.wait_refusal(facts(taken=TAKEN, own_taken=TAKEN), LASER)
    assert yours.message == "You have Laser cutter booked then already."


def test_a_held_span_and_its_neighbours_meet_exactly():
    """Held 11:15 to 12:00: a booking 10:00-11:00 (its 15-minute buffer ends at 11:15) and one
    from 12:00 both fit; one from 11:59 does not, and is told whose it is and until when."""
    held = [(T + H + 15 * M, T + 2 * H, "10:30")]
    assert rules.check_held(T, T + H, held, LASER) is None
    assert rules.check_held(T + 2 * H, T + 3 * H, held, LASER) is None
    refused = rules.check_held(T + H + 59 * M, T + 3 * H, held, LASER)
    assert refused.message == (
        "Laser cutter is offered to the next member on its waitlist then; if they do not take it "
        "by 10:30, it is free again."
    )


def test_an_offer_made_at_the_very_start_lasts_until_its_first_slot_ends():
    assert rules.offer_deadline(now=T, start=T, offer_minutes=60, slot_minutes=30) == T + 30 * M


OFFER_CLOSED = "This offer is no longer open ({}): the next member on the waitlist may have it."


@pytest.mark.parametrize(
    ("state", "until", "words"),
    [
        ("offered", NOW, "it lapsed"),  # its deadline is this moment
        ("offered", NOW - M, "it lapsed"),
        ("offered", None, "it lapsed"),
        ("waiting", None, "not offered yet"),
        ("booked", T, "you booked it"),
        ("declined", T, "declined"),
        ("lapsed", None, "the offer lapsed"),
        ("left", None, "you left"),
        ("over", None, "its time has passed"),
    ],
)
def test_the_sentence_a_member_reads_for_an_offer_no_longer_open(state, until, words):
    refused = rules.accept_refusal(is_owner=True, state=state, offer_until=until, now=NOW)
    assert refused.message == OFFER_CLOSED.format(words)


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("booked", "you booked it"),
        ("declined", "declined"),
        ("lapsed", "the offer lapsed"),
        ("left", "you left"),
        ("over", "its time has passed"),
    ],
)
def test_the_sentence_a_member_reads_for_a_wait_no_longer_open(state, words):
    refused = rules.leave_refusal(is_owner=True, state=state)
    assert refused.message == f"You are no longer on this waitlist ({words})."
