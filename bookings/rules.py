"""Every booking rule, as pure checks over plain values: each returns a refusal or None.

No database, no settings, no clock: `bookings.services` gathers the facts, calls these, and acts.
A refusal carries a reason code (for logs, tests and the gate) and a sentence a member understands,
translated into the active language when the refusal is made (the sentences are marked lazily).
"""

from __future__ import annotations

import enum
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Self

from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from bookings.states import ACTIVE_STATES, OPEN_WAIT_STATES, BookingState, WaitState
from core.time import add_duration, duration_between, minutes_between, utc, week_start
from equipment.rules import LONGEST_BOOKING, LONGEST_BUFFER, WeeklyHours, weekly_hours_spans

Interval = tuple[datetime, datetime]
Block = tuple[datetime, datetime, str]

# Equipment's rules cap a booking's length and buffer, so "which bookings could overlap" looks back
# a bounded span (the query stays fast as history grows).
LOOKBACK = LONGEST_BOOKING + LONGEST_BUFFER


class Refusal(enum.Enum):
    """Why a booking action is refused: a code and the sentence shown to the member."""

    _value_: str
    sentence: StrOrPromise

    def __new__(cls, code: str, sentence: StrOrPromise) -> Self:
        member = object.__new__(cls)
        member._value_ = code
        member.sentence = sentence
        return member

    ENDS_BEFORE_START = ("ends_before_start", _("A booking must end after it starts."))
    TOO_SHORT = ("too_short", _("Bookings on %(machine)s last at least %(minutes)s minutes."))
    TOO_LONG = ("too_long", _("Bookings on %(machine)s last at most %(minutes)s minutes."))
    OFF_GRID = (
        "off_grid",
        _(
            "Bookings on %(machine)s start and end on its %(minutes)s-minute grid (for example at :00)."
        ),
    )
    IN_PAST = ("in_past", _("That time has already passed; choose a time in the future."))
    TOO_FAR_AHEAD = (
        "too_far_ahead",
        _("Bookings on %(machine)s open %(days)s days ahead; choose an earlier day."),
    )
    OUT_OF_SERVICE = ("out_of_service", _("%(machine)s is out of service: %(reason)s"))
    RETIRED = ("retired", _("%(machine)s is retired and cannot be booked."))
    MEMBERSHIP_INACTIVE = (
        "membership_inactive",
        _(
            "Booking machines needs a paid-up membership, the current safety waiver signed and a "
            "badge."
        ),
    )
    PLAN_EXCLUDES_LOCATION = (
        "plan_excludes_location",
        _(
            "Your plan does not include %(location)s, where %(machine)s is. Ask the front desk about a "
            "plan for all locations."
        ),
    )
    NOT_CERTIFIED = (
        "not_certified",
        _("You need the %(certification)s certification to book %(machine)s."),
    )
    LOCAL_CHECKOUT_MISSING = (
        "local_checkout_missing",
        _("%(machine)s also needs the %(checkout)s, given by the staff at %(location)s."),
    )
    CLOSED = ("closed", _("%(machine)s is not open for bookings then; see its opening hours."))
    BLOCKED = ("blocked", _("%(machine)s is not available then (%(what)s)."))
    OVERLAP = ("overlap", _("%(machine)s is already booked at that time."))
    WEEKLY_QUOTA = (
        "weekly_quota",
        _("That would take you over %(hours)s booked hours on %(machine)s in that week."),
    )
    DAILY_QUOTA = (
        "daily_quota",
        _("You already have %(count)s booking(s) on %(machine)s that day, the most allowed."),
    )
    NOT_YOURS = ("not_yours", _("You can only change your own bookings."))
    NOT_ACTIVE = ("not_active", _("This booking is %(state)s; it can no longer be changed."))
    ALREADY_STARTED = (
        "already_started",
        _("This booking has already started; it can no longer be cancelled."),
    )
    CHECK_IN_NOT_OPEN = (
        "check_in_not_open",
        _("Check-in opens %(minutes)s minutes before the booking starts."),
    )
    BOOKING_OVER = ("booking_over", _("This booking has already ended."))
    NOT_RUNNING = ("not_running", _("Only a booking that is running now can be extended."))
    NOT_RUNNING_TO_END = (
        "not_running_to_end",
        _("Only a booking that is running now can be ended."),
    )
    HAND_OVER_CLOSED = (
        "hand_over_closed",
        _("Only a confirmed booking that has not started can be handed to another member."),
    )
    HAND_OVER_SELF = ("hand_over_self", _("That member already holds this booking."))
    NOT_LATER = ("not_later", _("The new end must be later than the current end."))
    NOT_TEACHER = (
        "not_teacher",
        _("Only this class's instructors and training staff can hold machines for it."),
    )
    CLASS_CLOSED = (
        "class_closed",
        _("This class is %(what)s; machines can no longer be held for it."),
    )
    HELD = (
        "held",
        _(
            "%(machine)s is offered to the next member on its waitlist then; if they do not take it "
            "by %(until)s, it is free again."
        ),
    )
    WAIT_FREE = ("wait_free", _("%(machine)s is free then: book it instead of waiting."))
    WAIT_YOURS = ("wait_yours", _("You have %(machine)s booked then already."))
    WAIT_CLOSED = ("wait_closed", _("You are no longer on this waitlist (%(state)s)."))
    OFFER_CLOSED = (
        "offer_closed",
        _("This offer is no longer open (%(state)s): the next member on the waitlist may have it."),
    )


@dataclass(frozen=True)
class Refused:
    reason: Refusal
    message: str

    @property
    def code(self) -> str:
        # `_value_`, not `value`: mypy types `value` as Any for an enum with its own `__new__`.
        return self.reason._value_


# OVERLAP's sentence on a machine that keeps minutes free between bookings: a whole sentence of its
# own, not a fragment added to the other, so that a translation can order its words.
OVERLAP_WITH_BUFFER = _(
    "%(machine)s is already booked at that time (with %(minutes)s minutes kept free between "
    "bookings)."
)


def refuse(
    refusal: Refusal, /, *, sentence: StrOrPromise | None = None, **context: object
) -> Refused:
    """The refusal, its sentence (or `sentence`, a variant for the same reason) in the active
    language with `context` filled in."""
    return Refused(refusal, str(refusal.sentence if sentence is None else sentence) % context)


@dataclass(frozen=True)
class MachineRules:
    """A machine's booking rules and state, as plain values."""

    name: str
    slot_minutes: int = 30
    min_minutes: int = 30
    max_minutes: int = 240
    book_ahead_days: int = 14
    weekly_hours_per_member: int = 0
    daily_bookings_per_member: int = 0
    buffer_minutes: int = 0
    state: str = "in_service"
    state_reason: str = ""
    certification: str | None = None
    location: str = ""
    checkout: str | None = None  # the local check-out it needs on top of the certification


@dataclass(frozen=True)
class BookingFacts:
    """Everything the rules need to judge one booking request."""

    start: datetime
    end: datetime
    now: datetime
    zone: tzinfo
    may_use_machines: bool = True
    plan_covers_location: bool = True
    certified: bool = True
    checked_out: bool = True
    opening: Sequence[Interval] | None = None
    blocks: Sequence[Block] = ()
    taken: Sequence[Interval] = ()
    member_week_minutes: int = 0
    member_day_bookings: int = 0
    extending: bool = False
    # Spans held for another member's open waitlist offer: (start, held until, offer deadline).
    held: Sequence[Block] = ()
    # The member's own bookings among `taken` (start, held until): a wait never waits for them.
    own_taken: Sequence[Interval] = ()


# The checks compare instants in UTC: aware datetimes of one zone compare on the wall clock with
# fold ignored, so the second 01:00 of the fall-back night would sort before the first 01:30.


def check_range(start: datetime, end: datetime) -> Refused | None:
    if utc(end) <= utc(start):
        return refuse(Refusal.ENDS_BEFORE_START)
    return None


def check_length(start: datetime, end: datetime, rules: MachineRules) -> Refused | None:
    """Real minutes, not the wall clock's: 01:30 to 03:00 on the spring-forward night is 30."""
    minutes = minutes_between(start, end)
    if minutes < rules.min_minutes:
        return refuse(Refusal.TOO_SHORT, machine=rules.name, minutes=rules.min_minutes)
    if minutes > rules.max_minutes or duration_between(start, end) > LONGEST_BOOKING:
        return refuse(Refusal.TOO_LONG, machine=rules.name, minutes=rules.max_minutes)
    return None


def on_grid(instant: datetime, slot_minutes: int, zone: tzinfo) -> bool:
    """Is `instant` on the slot grid, which starts at local midnight."""
    local = instant.astimezone(zone)
    return (
        local.second == 0
        and local.microsecond == 0
        and (local.hour * 60 + local.minute) % slot_minutes == 0
    )


def check_grid(start: datetime, end: datetime, rules: MachineRules, zone: tzinfo) -> Refused | None:
    if not (on_grid(start, rules.slot_minutes, zone) and on_grid(end, rules.slot_minutes, zone)):
        return refuse(Refusal.OFF_GRID, machine=rules.name, minutes=rules.slot_minutes)
    return None


def check_timing(
    start: datetime, now: datetime, rules: MachineRules, zone: tzinfo
) -> Refused | None:
    # Walk-up: the slot running now can still be booked by someone standing at a free machine;
    # only a slot that has ended (in real time) is past.
    if add_duration(start, timedelta(minutes=rules.slot_minutes)) <= utc(now):
        return refuse(Refusal.IN_PAST)
    # "N days ahead" is calendar days: the same wall-clock time N days on, in the space's zone.
    if utc(start) >= utc(now.astimezone(zone) + timedelta(days=rules.book_ahead_days)):
        return refuse(Refusal.TOO_FAR_AHEAD, machine=rules.name, days=rules.book_ahead_days)
    return None


def check_machine_state(rules: MachineRules) -> Refused | None:
    if rules.state == "retired":
        return refuse(Refusal.RETIRED, machine=rules.name)
    if rules.state != "in_service":
        return refuse(
            Refusal.OUT_OF_SERVICE,
            machine=rules.name,
            reason=rules.state_reason or gettext("no reason"),
        )
    return None


def check_member(
    *,
    may_use_machines: bool,
    certified: bool,
    rules: MachineRules,
    plan_covers_location: bool,
    checked_out: bool,
) -> Refused | None:
    if not may_use_machines:
        return refuse(Refusal.MEMBERSHIP_INACTIVE)
    if not plan_covers_location:
        return refuse(Refusal.PLAN_EXCLUDES_LOCATION, location=rules.location, machine=rules.name)
    if rules.certification and not certified:
        return refuse(Refusal.NOT_CERTIFIED, certification=rules.certification, machine=rules.name)
    if rules.checkout and not checked_out:
        return refuse(
            Refusal.LOCAL_CHECKOUT_MISSING,
            machine=rules.name,
            checkout=rules.checkout,
            location=rules.location,
        )
    return None


def check_opening(
    start: datetime, end: datetime, opening: Sequence[Interval] | None, rules: MachineRules
) -> Refused | None:
    """Within one opening interval (intervals arrive merged). None means always open."""
    if opening is None or within_opening(start, end, opening):
        return None
    return refuse(Refusal.CLOSED, machine=rules.name)


def within_opening(start: datetime, end: datetime, opening: Sequence[Interval]) -> bool:
    """Does one of the (merged) opening intervals hold all of [start, end)."""
    start, end = utc(start), utc(end)
    return any(utc(open_) <= start and end <= utc(close) for open_, close in opening)


def check_blocks(
    start: datetime, end: datetime, blocks: Sequence[Block], rules: MachineRules
) -> Refused | None:
    start, end = utc(start), utc(end)
    for block_start, block_end, label in blocks:
        if utc(block_start) < end and start < utc(block_end):
            return refuse(Refusal.BLOCKED, machine=rules.name, what=label)
    return None


def check_overlap(
    start: datetime, end: datetime, taken: Sequence[Interval], rules: MachineRules
) -> Refused | None:
    """Machine held over [start, end + buffer) must not meet another booking's held span."""
    held_until = add_duration(end, timedelta(minutes=rules.buffer_minutes))
    for other_start, other_held_until in taken:
        if utc(other_start) < held_until and utc(start) < utc(other_held_until):
            if rules.buffer_minutes:
                return refuse(
                    Refusal.OVERLAP,
                    sentence=OVERLAP_WITH_BUFFER,
                    machine=rules.name,
                    minutes=rules.buffer_minutes,
                )
            return refuse(Refusal.OVERLAP, machine=rules.name)
    return None


def check_held(
    start: datetime, end: datetime, held: Sequence[Block], rules: MachineRules
) -> Refused | None:
    """A span offered to a waiting member is theirs until the offer's deadline (with the buffer
    after it, as their booking would hold it)."""
    held_until = add_duration(end, timedelta(minutes=rules.buffer_minutes))
    for held_start, held_end, until in held:
        if utc(held_start) < held_until and utc(start) < utc(held_end):
            return refuse(Refusal.HELD, machine=rules.name, until=until)
    return None


def check_quotas(
    start: datetime,
    end: datetime,
    *,
    week_minutes: int,
    day_bookings: int,
    rules: MachineRules,
    count_new_booking: bool = True,
) -> Refused | None:
    if rules.weekly_hours_per_member:
        total = week_minutes + minutes_between(start, end)
        if total > rules.weekly_hours_per_member * 60:
            return refuse(
                Refusal.WEEKLY_QUOTA, hours=rules.weekly_hours_per_member, machine=rules.name
            )
    if (
        count_new_booking
        and rules.daily_bookings_per_member
        and day_bookings >= rules.daily_bookings_per_member
    ):
        return refuse(Refusal.DAILY_QUOTA, count=day_bookings, machine=rules.name)
    return None


def booking_refusal(facts: BookingFacts, rules: MachineRules) -> Refused | None:
    """The first rule a new (or extended) booking breaks, in the order a member fixes them."""
    start, end = facts.start, facts.end
    checks: list[Callable[[], Refused | None]] = [
        lambda: check_range(start, end),
        lambda: check_length(start, end, rules),
        lambda: check_grid(start, end, rules, facts.zone),
        lambda: None if facts.extending else check_timing(start, facts.now, rules, facts.zone),
        lambda: check_machine_state(rules),
        lambda: check_member(
            may_use_machines=facts.may_use_machines,
            certified=facts.certified,
            rules=rules,
            plan_covers_location=facts.plan_covers_location,
            checked_out=facts.checked_out,
        ),
        lambda: check_opening(start, end, facts.opening, rules),
        lambda: check_blocks(start, end, facts.blocks, rules),
        lambda: check_overlap(start, end, facts.taken, rules),
        lambda: check_held(start, end, facts.held, rules),
        lambda: check_quotas(
            start,
            end,
            week_minutes=facts.member_week_minutes,
            day_bookings=facts.member_day_bookings,
            rules=rules,
            count_new_booking=not facts.extending,
        ),
    ]
    for check in checks:
        refused = check()
        if refused is not None:
            return refused
    return None


def member_refusal(
    *,
    may_use_machines: bool,
    plan_covers_location: bool,
    certified: bool,
    checked_out: bool,
    rules: MachineRules,
) -> Refused | None:
    """What keeps this member from booking any slot of the machine, whatever the time: the
    machine's state, then the member's standing, plan, certification and local check-out (the
    same checks, in the same order, as `booking_refusal`). The grid and the machine cards show
    it before any click."""
    return check_machine_state(rules) or check_member(
        may_use_machines=may_use_machines,
        certified=certified,
        rules=rules,
        plan_covers_location=plan_covers_location,
        checked_out=checked_out,
    )


def beyond_horizon(start: datetime, now: datetime, rules: MachineRules, zone: tzinfo) -> bool:
    """Is `start` past how far ahead the machine takes bookings (the grid shows it as not open yet)."""
    refused = check_timing(start, now, rules, zone)
    return refused is not None and refused.reason is Refusal.TOO_FAR_AHEAD


def lengths_that_fit(facts: BookingFacts, rules: MachineRules) -> list[int]:
    """The booking lengths (real minutes) from `facts.start` that every rule accepts.

    Each ends on the slot grid, which across a clock change is not always a whole number of slots
    away: two-hour slots from 00:00 on the fall-back night end at 02:00, three real hours on.
    `facts` must be gathered for the longest length, so that opening hours, blocks and other
    bookings up to it are known; each shorter end is judged by `booking_refusal` itself.
    """
    return _lengths_judged(facts, rules, booking_refusal)


def wait_lengths(facts: BookingFacts, rules: MachineRules) -> list[int]:
    """The lengths from `facts.start` a member may wait for (`wait_refusal`): any span they could
    book but that it is taken, in part or whole. `facts` gathered for the longest, as above."""
    return _lengths_judged(facts, rules, wait_refusal)


def _lengths_judged(
    facts: BookingFacts,
    rules: MachineRules,
    judge: Callable[[BookingFacts, MachineRules], Refused | None],
) -> list[int]:
    fitting = []
    for minutes in range(rules.min_minutes, rules.max_minutes + 1):
        end = add_duration(facts.start, timedelta(minutes=minutes))
        # The grid test first only saves work: the judge refuses an end off the grid too.
        if (
            on_grid(end, rules.slot_minutes, facts.zone)
            and judge(replace(facts, end=end), rules) is None
        ):
            fitting.append(minutes)
    return fitting


def default_length(lengths: Sequence[int], *, start: datetime, now: datetime) -> int | None:
    """The length to preselect: the shortest that leaves at least the shortest booking's worth of
    time from now (a slot already running has lost its past minutes), else the longest offered."""
    if not lengths:
        return None
    shortest = lengths[0]
    for minutes in lengths:
        if minutes_between(now, add_duration(start, timedelta(minutes=minutes))) >= shortest:
            return minutes
    return lengths[-1]


def cancel_refusal(
    *, is_owner: bool, is_staff: bool, state: str, start: datetime, end: datetime, now: datetime
) -> Refused | None:
    """Members cancel their own confirmed bookings up to the start; staff until the end."""
    if not (is_owner or is_staff):
        return refuse(Refusal.NOT_YOURS)
    if state not in ACTIVE_STATES or (state == BookingState.CHECKED_IN and not is_staff):
        return refuse(Refusal.NOT_ACTIVE, state=_state_words(state))
    if utc(now) >= utc(end):
        return refuse(Refusal.BOOKING_OVER)
    if utc(now) >= utc(start) and not is_staff:
        return refuse(Refusal.ALREADY_STARTED)
    return None


def cancelled_state(*, start: datetime, now: datetime, late_minutes: int) -> BookingState:
    """A cancellation close to the start is a late cancellation (kept apart in the history)."""
    notice = duration_between(now, start)
    late = notice < timedelta(minutes=late_minutes)
    return BookingState.LATE_CANCELLED if late else BookingState.CANCELLED


def check_in_refusal(
    *, state: str, start: datetime, end: datetime, now: datetime, opens_minutes: int
) -> Refused | None:
    if state != BookingState.CONFIRMED:
        return refuse(Refusal.NOT_ACTIVE, state=_state_words(state))
    if utc(now) < add_duration(start, -timedelta(minutes=opens_minutes)):
        return refuse(Refusal.CHECK_IN_NOT_OPEN, minutes=opens_minutes)
    if utc(now) >= utc(end):
        return refuse(Refusal.BOOKING_OVER)
    return None


def extend_refusal(
    *, state: str, start: datetime, end: datetime, new_end: datetime, now: datetime
) -> Refused | None:
    """The booking-specific half of an extension; the machine rules run after it."""
    if state not in ACTIVE_STATES:
        return refuse(Refusal.NOT_ACTIVE, state=_state_words(state))
    if not (utc(start) <= utc(now) < utc(end)):
        return refuse(Refusal.NOT_RUNNING)
    if utc(new_end) <= utc(end):
        return refuse(Refusal.NOT_LATER)
    return None


def finish_refusal(
    *, is_owner: bool, is_staff: bool, state: str, start: datetime, end: datetime, now: datetime
) -> Refused | None:
    """ "I'm done": a running booking ends now and frees its machine (its member or staff)."""
    if not (is_owner or is_staff):
        return refuse(Refusal.NOT_YOURS)
    if state not in ACTIVE_STATES:
        return refuse(Refusal.NOT_ACTIVE, state=_state_words(state))
    if not (utc(start) <= utc(now) < utc(end)):
        return refuse(Refusal.NOT_RUNNING_TO_END)
    return None


def hand_over_refusal(
    *, is_owner: bool, is_staff: bool, same_member: bool, state: str, start: datetime, now: datetime
) -> Refused | None:
    """A member hands their booking to another member before it starts; the machine rules are
    then judged for the new member (`booking_refusal`), as if they booked it themselves."""
    if not (is_owner or is_staff):
        return refuse(Refusal.NOT_YOURS)
    if state != BookingState.CONFIRMED or utc(now) >= utc(start):
        return refuse(Refusal.HAND_OVER_CLOSED)
    if same_member:
        return refuse(Refusal.HAND_OVER_SELF)
    return None


def class_hold_refusal(
    *, may_teach: bool, cancelled: bool, end: datetime, now: datetime
) -> Refused | None:
    """Machines are held for a class by those who teach it, while the class is still to end."""
    if not may_teach:
        return refuse(Refusal.NOT_TEACHER)
    if cancelled:
        return refuse(Refusal.CLASS_CLOSED, what=pgettext("class state", "cancelled"))
    if utc(now) >= utc(end):
        return refuse(Refusal.CLASS_CLOSED, what=pgettext("class state", "over"))
    return None


# A change of a machine's rules (staff's dry run): which bookings to come it breaks.


class Breach(enum.Enum):
    """A rule a booking made under the old rules breaks under the new ones. `cancels`: the
    booking could no longer be used, so it is cancelled; otherwise it only exceeds a limit
    and is kept (limits judge new bookings)."""

    _value_: str
    cancels: bool
    sentence: StrOrPromise

    def __new__(cls, code: str, cancels: bool, sentence: StrOrPromise) -> Self:
        member = object.__new__(cls)
        member._value_ = code
        member.cancels = cancels
        member.sentence = sentence
        return member

    NOT_CERTIFIED = (
        "not_certified",
        True,
        _("%(machine)s now needs the %(certification)s certification"),
    )
    CLOSED = ("closed", True, _("%(machine)s is no longer open then (its opening hours changed)"))
    WEEKLY_QUOTA = (
        "weekly_quota",
        False,
        _("over the new weekly limit of booked hours per member (%(hours)s)"),
    )
    DAILY_QUOTA = (
        "daily_quota",
        False,
        _("over the new daily limit of bookings per member (%(count)s)"),
    )
    BUFFER = (
        "buffer",
        False,
        _("the next booking starts within the new %(minutes)s-minute buffer after it"),
    )


@dataclass(frozen=True)
class RulesInForce:
    """What a rule change compares, before and after it. `opening` empty: open at any time."""

    certification_id: int | None = None
    weekly_hours_per_member: int = 0
    daily_bookings_per_member: int = 0
    buffer_minutes: int = 0
    opening: Sequence[WeeklyHours] = ()


@dataclass(frozen=True)
class BookedSlot:
    """A booking on the machine as a rule change sees it.

    `to_come`: active and not over, so the change may cancel or flag it; others (done, or a
    no-show) only count towards the quotas. `holds_machine`: confirmed or checked in, so its
    buffer and the next booking's start meet. `certified_after`: its member holds the new
    certification at its start.
    """

    booking_id: int
    member_id: int
    start: datetime
    end: datetime
    to_come: bool = True
    holds_machine: bool = True
    certified_after: bool = True


@dataclass(frozen=True)
class Consequence:
    """A booking to come that the change breaks, with every rule it breaks."""

    booking_id: int
    breaches: tuple[Breach, ...]

    @property
    def cancels(self) -> bool:
        return any(breach.cancels for breach in self.breaches)


def _open_under(slot: BookedSlot, hours: Sequence[WeeklyHours], zone: tzinfo) -> bool:
    if not hours:
        return True
    # From the day before: hours that close at midnight end where the booking's day begins.
    first_day = utc(slot.start).astimezone(zone).date() - timedelta(days=1)
    last_day = utc(slot.end).astimezone(zone).date()
    spans = weekly_hours_spans(hours, first_day=first_day, last_day=last_day, zone=zone)
    return within_opening(slot.start, slot.end, spans)


def _over_limit(
    slots: Sequence[BookedSlot],
    key: Callable[[BookedSlot], object],
    amount: Callable[[BookedSlot], float],
    limit: int,
) -> set[object]:
    """The groups (by `key`) whose `amount`s add up to more than `limit` (0: no limit)."""
    totals: dict[object, float] = defaultdict(float)
    for slot in slots:
        totals[key(slot)] += amount(slot)
    return {group for group, total in totals.items() if limit and total > limit}


def rule_change_consequences(
    *,
    before: RulesInForce,
    after: RulesInForce,
    bookings: Sequence[BookedSlot],
    zone: tzinfo,
) -> list[Consequence]:
    """The bookings to come that rules `after` break and rules `before` did not, in time order.

    Cancelled: the member lacks the new certification at the booking's start, or the booking is
    no longer inside one opening interval (on the wall clock of `zone`, daylight saving and
    all). Kept and listed: the member goes over a lowered weekly hours or daily bookings limit
    (weeks and days local, as the booking rules count them), or a raised buffer runs into the
    next booking. Limits and buffers are judged without the bookings the change cancels.
    """
    to_come = sorted((slot for slot in bookings if slot.to_come), key=lambda s: utc(s.start))
    found: dict[int, list[Breach]] = defaultdict(list)
    if after.certification_id not in (None, before.certification_id):
        for slot in to_come:
            if not slot.certified_after:
                found[slot.booking_id].append(Breach.NOT_CERTIFIED)
    if tuple(after.opening) != tuple(before.opening):
        for slot in to_come:
            if not _open_under(slot, after.opening, zone) and _open_under(
                slot, before.opening, zone
            ):
                found[slot.booking_id].append(Breach.CLOSED)
    cancelled = {booking_id for booking_id, breaches in found.items() if breaches}
    standing = [slot for slot in bookings if slot.booking_id not in cancelled]

    def local_day(slot: BookedSlot) -> date:
        return utc(slot.start).astimezone(zone).date()

    def week(slot: BookedSlot) -> tuple[int, date]:
        return slot.member_id, week_start(local_day(slot))

    def day(slot: BookedSlot) -> tuple[int, date]:
        return slot.member_id, local_day(slot)

    def minutes(slot: BookedSlot) -> float:
        return minutes_between(slot.start, slot.end) // 1

    for breach, key, amount, limit_after, limit_before in (
        (
            Breach.WEEKLY_QUOTA,
            week,
            minutes,
            after.weekly_hours_per_member * 60,
            before.weekly_hours_per_member * 60,
        ),
        (
            Breach.DAILY_QUOTA,
            day,
            lambda slot: 1,
            after.daily_bookings_per_member,
            before.daily_bookings_per_member,
        ),
    ):
        over = _over_limit(standing, key, amount, limit_after) - _over_limit(
            bookings, key, amount, limit_before
        )
        for slot in to_come:
            if slot.booking_id not in cancelled and key(slot) in over:
                found[slot.booking_id].append(breach)
    if after.buffer_minutes > before.buffer_minutes:
        starts = sorted(utc(slot.start) for slot in standing if slot.holds_machine)
        for slot in to_come:
            if slot.booking_id in cancelled:
                continue
            ends = utc(slot.end)
            following = next((start for start in starts if start >= ends), None)
            if following is not None and (
                add_duration(ends, timedelta(minutes=before.buffer_minutes))
                <= following
                < add_duration(ends, timedelta(minutes=after.buffer_minutes))
            ):
                found[slot.booking_id].append(Breach.BUFFER)
    return [
        Consequence(slot.booking_id, tuple(found[slot.booking_id]))
        for slot in to_come
        if found.get(slot.booking_id)
    ]


def consequences_digest(consequences: Iterable[Consequence]) -> str:
    """A short fingerprint of which bookings a change breaks and how: a confirm form carries it,
    so a change confirmed after the bookings changed is shown again instead of carried out."""
    text = ";".join(
        f"{c.booking_id}:{','.join(b._value_ for b in c.breaches)}"
        for c in sorted(consequences, key=lambda c: c.booking_id)
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _state_words(state: str) -> str:
    """A booking's state as a refusal names it: only the states no rule lets a booking be
    changed in (cancel, check-in, extend and finish all accept a confirmed booking)."""
    words: dict[str, str] = {
        BookingState.CHECKED_IN: pgettext("booking state", "checked in"),
        BookingState.COMPLETED: pgettext("booking state", "completed"),
        BookingState.CANCELLED: pgettext("booking state", "cancelled"),
        BookingState.LATE_CANCELLED: pgettext("booking state", "cancelled"),
        BookingState.NO_SHOW: pgettext("booking state", "released as a no-show"),
    }
    return words.get(state, state)


# The waitlist (bookings.waitlist): a member waits for a taken span and is offered it when it frees.


def wait_refusal(facts: BookingFacts, rules: MachineRules) -> Refused | None:
    """May this member wait for the span [start, end): every booking rule but "it is taken" must
    hold for them (standing, certification, horizon, lengths, hours, quotas), and some of it must
    be taken by someone else, by a booking or an offer held for another waiting member. The span
    is the member's own choice: part of one booking, or across several and the free time between.
    A span their own booking meets is refused: it could never be offered to them."""
    refused = booking_refusal(replace(facts, taken=(), held=()), rules)
    if refused is not None:
        return refused
    start, end = facts.start, facts.end
    if check_overlap(start, end, facts.own_taken, rules) is not None:
        return refuse(Refusal.WAIT_YOURS, machine=rules.name)
    if (
        check_overlap(start, end, facts.taken, rules) is None
        and check_held(start, end, facts.held, rules) is None
    ):
        return refuse(Refusal.WAIT_FREE, machine=rules.name)
    return None


class Verdict(enum.Enum):
    """What a freed span means for one waiting member, from what `booking_refusal` says."""

    OFFER = "offer"  # every rule allows it: offer it and hold it for them
    WAIT = "wait"  # still not free for anyone (booked, held, blocked, closed): wait on
    SKIP = "skip"  # free, but this member may not book it now: pass them over, with the reason
    OVER = "over"  # too late to book: the wait is over


# Refusals about the span itself, the same for every member: the wait goes on.
_NOT_FREE_YET = frozenset(
    {Refusal.OVERLAP, Refusal.HELD, Refusal.BLOCKED, Refusal.CLOSED, Refusal.OUT_OF_SERVICE}
)


def offer_verdict(refused: Refused | None) -> Verdict:
    if refused is None:
        return Verdict.OFFER
    if refused.reason is Refusal.IN_PAST:
        return Verdict.OVER
    if refused.reason in _NOT_FREE_YET:
        return Verdict.WAIT
    return Verdict.SKIP


def offer_deadline(
    *, now: datetime, start: datetime, offer_minutes: int, slot_minutes: int
) -> datetime | None:
    """Until when an offer holds the span: `offer_minutes` from now, but never past the start
    (once it has begun, never past the end of its first slot, the last moment it can be booked
    as a walk-up). None when that moment has passed."""
    latest = utc(start)
    if latest <= utc(now):
        latest = add_duration(start, timedelta(minutes=slot_minutes))
    deadline = min(add_duration(now, timedelta(minutes=offer_minutes)), latest)
    return deadline if deadline > utc(now) else None


def accept_refusal(
    *, is_owner: bool, state: str, offer_until: datetime | None, now: datetime
) -> Refused | None:
    """An offer is taken by its member, while it is open and before its deadline; booking it is
    then judged by `booking_refusal` as any booking."""
    if not is_owner:
        return refuse(Refusal.NOT_YOURS)
    if state != WaitState.OFFERED or offer_until is None or utc(now) >= utc(offer_until):
        words = (
            pgettext("waitlist state", "it lapsed")
            if state == WaitState.OFFERED
            else _wait_words(state)
        )
        return refuse(Refusal.OFFER_CLOSED, state=words)
    return None


def leave_refusal(*, is_owner: bool, state: str) -> Refused | None:
    """A member leaves their own open wait (an open offer is given up with it)."""
    if not is_owner:
        return refuse(Refusal.NOT_YOURS)
    if state not in OPEN_WAIT_STATES:
        return refuse(Refusal.WAIT_CLOSED, state=_wait_words(state))
    return None


def _wait_words(state: str) -> str:
    words: dict[str, str] = {
        WaitState.BOOKED: pgettext("waitlist state", "you booked it"),
        WaitState.DECLINED: pgettext("waitlist state", "declined"),
        WaitState.LAPSED: pgettext("waitlist state", "the offer lapsed"),
        WaitState.LEFT: pgettext("waitlist state", "you left"),
        WaitState.OVER: pgettext("waitlist state", "its time has passed"),
        WaitState.WAITING: pgettext("waitlist state", "not offered yet"),
    }
    return words.get(state, state)
