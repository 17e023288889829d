"""Read-only questions about bookings: the gate's "is there a booking now", the week grid, lists."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext

from bookings.models import Booking, Wait
from bookings.rules import LOOKBACK, Block, BookingFacts, MachineRules, beyond_horizon
from bookings.states import ACTIVE_STATES, OPEN_WAIT_STATES, BookingState, WaitState
from core import clock, formats
from core.time import (
    add_duration,
    day_slots,
    duration_between,
    is_repeated,
    local_day_bounds,
    utc,
    week_start,
)
from equipment.daypasses.selectors import day_pass_opens_span
from equipment.models import Machine
from equipment.selectors import machine_calendar_facts, machines_bookable
from locations import zones
from locations.zones import in_zone_of
from membership.models import Member, User
from membership.selectors import PAYMENT, member_machine_blockers, member_plan_opens
from staffing.selectors import EVERYWHERE, Scope
from training.models import ClassSession
from training.selectors import (
    member_holds_certification,
    member_holds_checkout,
    user_can_manage_session,
    user_can_sign_off,
)

# Bookings that use up a member's weekly hours and daily count (cancellations give them back).
QUOTA_STATES = (*ACTIVE_STATES, BookingState.COMPLETED, BookingState.NO_SHOW)


def check_in_opens() -> timedelta:
    """How long before its start a booking can be checked in to and opens its machine: the one
    reading of BOOKING_CHECK_IN_OPENS_MINUTES (check-in, the access decision, offline lists)."""
    return timedelta(minutes=getattr(settings, "BOOKING_CHECK_IN_OPENS_MINUTES", 10))


def booking_covering(*, member: Member, machine: Machine, at: datetime) -> Booking | None:
    """The confirmed or checked-in booking of `member` on `machine` covering `at`, if any.

    Check-in opens BOOKING_CHECK_IN_OPENS_MINUTES before the start, so a booking covers that
    lead time too. The booking's `end` is when the gate's grant ends.
    """
    return bookings_covering([(member.pk, machine.pk, at)])[0]


def bookings_covering(
    questions: Sequence[tuple[int, int, datetime]],
) -> list[Booking | None]:
    """`booking_covering` for many (member id, machine id, instant) questions in one query."""
    if not questions:
        return []
    lead = check_in_opens()
    instants = [utc(at) for _, _, at in questions]
    candidates = Booking.objects.filter(
        member_id__in={member_id for member_id, _, _ in questions},
        machine_id__in={machine_id for _, machine_id, _ in questions},
        state__in=ACTIVE_STATES,
        start__lte=max(instants) + lead,
        end__gt=min(instants),
    ).order_by("start")
    by_pair: dict[tuple[int, int], list[Booking]] = defaultdict(list)
    for booking in candidates:
        by_pair[booking.member_id, booking.machine_id].append(booking)
    return [
        next(
            (b for b in by_pair[member_id, machine_id] if b.start <= at + lead and b.end > at),
            None,
        )
        for (member_id, machine_id, _), at in zip(questions, instants, strict=True)
    ]


def machine_rules(machine: Machine) -> MachineRules:
    certification = machine.required_certification
    return MachineRules(
        name=machine.name,
        slot_minutes=machine.slot_minutes,
        min_minutes=machine.min_minutes,
        max_minutes=machine.max_minutes,
        book_ahead_days=machine.book_ahead_days,
        weekly_hours_per_member=machine.weekly_hours_per_member,
        daily_bookings_per_member=machine.daily_bookings_per_member,
        buffer_minutes=machine.buffer_minutes,
        state=machine.state,
        state_reason=machine.state_reason,
        certification=certification.name if certification else None,
        location=machine.location.name,
        checkout=machine.required_checkout.name if machine.required_checkout else None,
    )


def bookings_holding(
    machine: Machine, *, start: datetime, end: datetime, exclude_pk: int | None = None
) -> QuerySet[Booking]:
    """Active bookings whose held span [start, blocked_until) meets [start, end)."""
    queryset = Booking.objects.filter(
        machine=machine,
        state__in=ACTIVE_STATES,
        # The lower bound lets the (machine, start) index skip all older history; real time, so
        # a week that spans a daylight-saving change still reaches back far enough.
        start__gt=add_duration(start, -LOOKBACK),
        start__lt=end,
        blocked_until__gt=start,
    )
    return queryset.exclude(pk=exclude_pk) if exclude_pk else queryset


def offers_holding(
    machine: Machine, *, start: datetime, end: datetime, exclude_member: Member | None = None
) -> list[Block]:
    """Spans held for open waitlist offers that meet [start, end): (start, end plus the buffer,
    the offer's deadline as the clock shows it). The offered member's own hold is left out."""
    offers = Wait.objects.filter(
        machine=machine,
        state=WaitState.OFFERED,
        start__gt=add_duration(start, -LOOKBACK),
        start__lt=end,
    )
    if exclude_member is not None:
        offers = offers.exclude(member=exclude_member)
    buffer = timedelta(minutes=machine.buffer_minutes)
    held = []
    for offer in offers:
        held_until = add_duration(offer.end, buffer)
        if held_until > start and offer.offer_until is not None:
            held.append((offer.start, held_until, formats.format_time(offer.offer_until)))
    return held


def _local_day_bounds(instant: datetime) -> tuple[datetime, datetime]:
    return local_day_bounds(timezone.localtime(instant).date(), timezone.get_current_timezone())


def _local_week_bounds(instant: datetime) -> tuple[datetime, datetime]:
    day = timezone.localtime(instant).date()
    monday = week_start(day)
    zone = timezone.get_current_timezone()
    # Local midnights on the wall clock: a week with a daylight-saving change is 167 or 169 hours.
    return local_day_bounds(monday, zone)[0], local_day_bounds(monday + timedelta(days=6), zone)[1]


def booking_facts(
    *,
    member: Member,
    machine: Machine,
    start: datetime,
    end: datetime,
    now: datetime,
    exclude_pk: int | None = None,
    extending: bool = False,
) -> BookingFacts:
    """Gather from the database what `rules.booking_refusal` judges."""
    # In the machine's zone, as a block rather than the `in_zone_of` decorator: mutation testing
    # (mutmut) leaves decorated functions alone, and this one decides what a booking may do.
    with zones.at(machine):
        certification = machine.required_certification
        certified = certification is None or member_holds_certification(
            member=member, certification=certification, at=max(start, now)
        )
        start, end = utc(start), utc(end)
        span_end = add_duration(max(end, start), timedelta(minutes=machine.buffer_minutes))
        calendar = machine_calendar_facts(machine, start=start, end=max(end, start + timedelta(1)))
        holding = list(
            bookings_holding(machine, start=start, end=span_end, exclude_pk=exclude_pk).values_list(
                "start", "blocked_until", "member_id"
            )
        )
        taken = [(b_start, b_until) for b_start, b_until, _member in holding]
        mine = Booking.objects.filter(member=member, machine=machine, state__in=QUOTA_STATES)
        if exclude_pk:
            mine = mine.exclude(pk=exclude_pk)
        week_start, week_end = _local_week_bounds(start)
        day_start, day_end = _local_day_bounds(start)
        week_minutes = 0
        for b_start, b_end in mine.filter(start__gte=week_start, start__lt=week_end).values_list(
            "start", "end"
        ):
            week_minutes += int((b_end - b_start).total_seconds() // 60)
        day_count = mine.filter(start__gte=day_start, start__lt=day_end).count()
        blockers = member_machine_blockers(member, at=now)
        plan_covers = member_plan_opens(member, machine.location_id)
        if (PAYMENT in blockers or not plan_covers) and day_pass_opens_span(
            member=member, machine=machine, start=start, end=end
        ):
            # A day pass for the whole booking stands in for the membership and the plan.
            blockers, plan_covers = [b for b in blockers if b != PAYMENT], True
        return BookingFacts(
            start=start,
            end=end,
            now=now,
            zone=timezone.get_current_timezone(),
            may_use_machines=not blockers,
            plan_covers_location=plan_covers,
            certified=certified,
            checked_out=member_holds_checkout(
                member=member, checkout_id=machine.required_checkout_id, at=max(start, now)
            ),
            opening=calendar.opening,
            blocks=calendar.blocks,
            taken=taken,
            own_taken=[
                (b_start, b_until)
                for b_start, b_until, b_member in holding
                if b_member == member.pk
            ],
            member_week_minutes=week_minutes,
            member_day_bookings=day_count,
            extending=extending,
            held=offers_holding(machine, start=start, end=span_end, exclude_member=member),
        )


@dataclass
class Cell:
    start: datetime
    end: datetime
    # free, mine, taken, blocked (maintenance or class), buffer, closed, past; and for a member
    # who may not book: locked (free, but not for them: the grid says why), ahead (beyond the
    # booking horizon).
    status: str
    label: str = ""
    booking: Booking | None = None
    # Taken, and this member is on its waitlist.
    waiting: bool = False
    # The strings the grid's template prints, set by `week_grid` once per cell (`_dressed`):
    # template filters (`|date`, `|urlencode`, `{% url %}`) per cell were most of the page's time.
    css: str = ""
    iso: str = ""  # the start as ISO 8601 with its offset: the repeated hour's two 01:00s differ
    moment: str = ""  # "Tue 8 Dec 2026, 10:00", for the cell's spoken label
    title: str = ""  # the booking's span, where the viewer may see whose it is
    action_url: str = ""  # book it (free), or wait for it (taken), with the start in the query
    cancellable: bool = False  # the cell where the viewer's confirmed, future booking begins

    @property
    def zone_name(self) -> str:
        """ "PDT" or "PST" when its wall-clock time happens twice this day (the clocks go back),
        to tell the two apart; empty otherwise. (Django's date filter leaves the zone name of
        such a time blank, so the grid takes it from here.)"""
        return (self.start.tzname() or "") if is_repeated(self.start) else ""

    @property
    def starts_booking(self) -> bool:
        """The cell where its booking begins. Compared in UTC: Python never finds a local time of
        the repeated hour equal (==) to a time in another zone, even the same instant."""
        return self.booking is not None and utc(self.start) == utc(self.booking.start)


@dataclass
class Day:
    date: date
    cells: list[Cell] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    """One line of the grid: a wall-clock time and each day's slot at it.

    A cell is None where a day has no such slot: the hour the clocks skip, or the second pass of
    the repeated hour on the days without one. `zone_name` is set on the two passes of a repeated
    hour ("PDT", then "PST") so people can tell them apart.
    """

    time: time
    second_pass: bool
    cells: list[Cell | None]
    zone_name: str = ""

    @property
    def label(self) -> str:
        return f"{self.time:%H:%M} {self.zone_name}" if self.zone_name else f"{self.time:%H:%M}"


@dataclass(frozen=True)
class ClockChange:
    """A day whose clocks change: forward (a 23-hour day) or back (25 hours), zone names around."""

    day: date
    forward: bool
    before: str
    after: str


def clock_change(day: date, zone: tzinfo) -> ClockChange | None:
    """How the clocks change on `day` in `zone`, or None on an ordinary 24-hour day."""
    start, end = local_day_bounds(day, zone)
    length = duration_between(start, end)
    if length == timedelta(days=1):
        return None
    # Aware instants in a real zone always have a name; "" only keeps the type a plain str.
    return ClockChange(day, length < timedelta(days=1), start.tzname() or "", end.tzname() or "")


@dataclass
class WeekGrid:
    machine: Machine
    monday: date
    days: list[Day]
    rows: list[Row]
    clock_changes: list[ClockChange] = field(default_factory=list)
    # The day a narrow screen shows alone (today, or the first day of another week).
    focus: date | None = None
    now: datetime | None = None
    # "?next=" of the cancel links: back to this week's booking page.
    cancel_next: str = ""

    @property
    def focus_day(self) -> date:
        return self.focus or self.monday

    @property
    def previous_day(self) -> date:
        return self.focus_day - timedelta(days=1)

    @property
    def next_day(self) -> date:
        return self.focus_day + timedelta(days=1)

    @property
    def previous_week(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def next_week(self) -> date:
        return self.monday + timedelta(days=7)


# Rows of a week with opening hours set but none that week (every cell "Closed").
DEFAULT_DAY = (time(8), time(22))


def _row_span(opening: list[tuple[datetime, datetime]] | None) -> tuple[time, time | None]:
    """The first and last wall-clock times the week's rows cover (None: up to midnight).

    A machine without opening hours may be booked at any hour, the night included (and the
    repeated hour of the fall-back night), so its rows cover the whole day.
    """
    if opening is None:
        return time.min, None
    if not opening:
        return DEFAULT_DAY
    first: time = time.max
    last: time | None = time.min
    for open_, close in opening:
        local_open, local_close = timezone.localtime(open_), timezone.localtime(close)
        span: tuple[time, time | None]
        if local_close.date() == local_open.date():
            span = (local_open.time(), local_close.time())
        elif (
            local_close.date() == local_open.date() + timedelta(days=1)
            and local_close.time() == time.min
        ):
            span = (local_open.time(), None)
        else:  # open across a midnight: every hour of the day is open on some day
            span = (time.min, None)
        first = min(first, span[0])
        last = None if last is None or span[1] is None else max(last, span[1])
    return first, last


def _merged_row_keys(days_keys: list[list[tuple[time, bool]]]) -> list[tuple[time, bool]]:
    """One ordered list of (wall time, second pass) rows holding every day's slots in order."""
    order: list[tuple[time, bool]] = []
    for keys in days_keys:
        position = 0
        for key in keys:
            if key in order:
                position = order.index(key) + 1
            else:
                order.insert(position, key)
                position += 1
    return order


@in_zone_of("machine")
def week_grid(
    *,
    machine: Machine,
    monday: date,
    member: Member | None,
    show_names: bool = False,
    now: datetime | None = None,
    may_book: bool = True,
    focus: date | None = None,
) -> WeekGrid:
    """The machine's week, slot by slot: free, yours, taken (a name only for staff) or blocked.

    Slots follow each day's wall clock: the spring-forward day has no 02:00 row cells, the
    fall-back day has the 01:00 hour twice, as two rows labelled with their zone names.
    `may_book` False (the member's standing or certification refuses every slot) shows free
    slots as locked; free slots past the booking horizon show as not open yet.
    """
    now = now or clock.now()
    zone = timezone.get_current_timezone()
    week_start, _ = local_day_bounds(monday, zone)
    _, week_end = local_day_bounds(monday + timedelta(days=6), zone)
    calendar = machine_calendar_facts(machine, start=week_start, end=week_end)
    holding = bookings_holding(machine, start=week_start, end=week_end)
    bookings = list(holding.select_related("member__user") if show_names else holding)
    first, last = _row_span(calendar.opening)
    step = timedelta(minutes=machine.slot_minutes)
    # Compare plain epoch seconds: far cheaper than aware datetimes across zones, cell by cell.
    booked = [
        (b.start.timestamp(), b.end.timestamp(), b.blocked_until.timestamp(), b) for b in bookings
    ]
    held = offers_holding(machine, start=week_start, end=week_end, exclude_member=member)
    blocks = [
        (s.timestamp(), e.timestamp(), label)
        for s, e, label in [
            *calendar.blocks,
            *(
                (s, e, gettext("Offered to the waitlist until %(until)s") % {"until": until})
                for s, e, until in held
            ),
        ]
    ]
    waits = (
        []
        if member is None
        else [
            (w_start.timestamp(), w_end.timestamp())
            for w_start, w_end in member_waits_open(member)
            .filter(machine=machine, start__lt=week_end, end__gt=week_start)
            .values_list("start", "end")
        ]
    )
    opening = (
        None
        if calendar.opening is None
        else [(s.timestamp(), e.timestamp()) for s, e in calendar.opening]
    )
    now_ts = now.timestamp()
    rules_ = machine_rules(machine)
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        slots = day_slots(day, first=first, last=last, step_minutes=machine.slot_minutes, zone=zone)
        days.append(
            Day(
                day,
                [
                    _judged(
                        _cell(
                            start,
                            add_duration(start, step),
                            now_ts,
                            opening,
                            blocks,
                            booked,
                            member,
                            show_names,
                        ),
                        now=now,
                        rules_=rules_,
                        zone=zone,
                        may_book=may_book,
                        waits=waits,
                    )
                    for start in slots
                ],
            )
        )
    focus = focus if focus and monday <= focus <= monday + timedelta(days=6) else None
    _dressed(
        days,
        machine=machine,
        focus_day=focus or monday,
        now=now,
        show_names=show_names,
        may_book=may_book,
    )
    page_url = reverse("bookings:machine_calendar", args=[machine.slug])
    return WeekGrid(
        machine=machine,
        monday=monday,
        days=days,
        rows=_rows(days),
        clock_changes=[
            change for day in days if (change := clock_change(day.date, zone)) is not None
        ],
        focus=focus,
        now=now,
        cancel_next=f"?next={quote(page_url, safe='/')}%3Fweek%3D{monday.isoformat()}",
    )


def _dressed(
    days: list[Day],
    *,
    machine: Machine,
    focus_day: date,
    now: datetime,
    show_names: bool,
    may_book: bool,
) -> None:
    """Set each cell's strings: its class, start, spoken moment, title and link.

    The booking and waitlist addresses are reversed once per grid and each booking's texts made
    once, however many cells it covers.
    """
    book_url = reverse("bookings:booking_new", args=[machine.slug]) + "?start="
    wait_url = reverse("bookings:wait_new", args=[machine.slug]) + "?start="
    said: dict[int, tuple[str, str, str]] = {}  # booking pk: moment, span, its end for the wait
    for day in days:
        other_day = " other-day" if day.date != focus_day else ""
        for cell in day.cells:
            cell.css = f"slot {cell.status}{other_day}"
            cell.iso = cell.start.isoformat()
            booking = cell.booking
            if booking is None:
                if cell.status in ("free", "locked"):
                    cell.moment = formats.format_moment(cell.start)
                if cell.status == "free":
                    cell.action_url = book_url + quote(cell.iso, safe="/")
                continue
            if booking.pk not in said:
                said[booking.pk] = (
                    formats.format_moment(booking.start),
                    formats.format_span(booking.start, booking.end),
                    # As stored (UTC): the wait panel preselects the length up to it.
                    f"&end={quote(booking.end.isoformat(), safe='/')}",
                )
            cell.moment, span, wait_until = said[booking.pk]
            if cell.status == "mine" or show_names:
                cell.title = span
                cell.cancellable = (
                    cell.starts_booking
                    and booking.state == BookingState.CONFIRMED
                    and booking.start > now
                )
            elif may_book and cell.end > now:
                # From this slot: the member chooses how long in the panel (part of the booking,
                # or on across the next ones).
                cell.action_url = wait_url + quote(cell.iso, safe="/") + wait_until
                cell.moment = formats.format_moment(cell.start)


def grid_cells_between(grid: WeekGrid, *, start: datetime, end: datetime) -> list[Cell]:
    """The grid's cells that overlap [start, end): what one booking and its buffer change."""
    s, e = start.timestamp(), end.timestamp()
    return [
        cell
        for day in grid.days
        for cell in day.cells
        if cell.start.timestamp() < e and s < cell.end.timestamp()
    ]


def _judged(
    cell: Cell,
    *,
    now: datetime,
    rules_: MachineRules,
    zone: tzinfo,
    may_book: bool,
    waits: Sequence[tuple[float, float]] = (),
) -> Cell:
    """A free cell as this member may see it: beyond the horizon, or not theirs to book; a taken
    one, whether they wait for it."""
    if cell.status == "taken":
        s, e = cell.start.timestamp(), cell.end.timestamp()
        cell.waiting = any(w_start < e and s < w_end for w_start, w_end in waits)
    if cell.status != "free":
        return cell
    if beyond_horizon(cell.start, now, rules_, zone):
        ahead = gettext("Opens %(days)s days ahead") % {"days": rules_.book_ahead_days}
        return Cell(cell.start, cell.end, "ahead", ahead)
    if not may_book:
        return Cell(cell.start, cell.end, "locked", pgettext("grid cell", "Free"))
    return cell


def _rows(days: list[Day]) -> list[Row]:
    by_day = [
        {(cell.start.time(), bool(cell.start.fold)): cell for cell in day.cells} for day in days
    ]
    rows = []
    for key in _merged_row_keys([list(day_cells) for day_cells in by_day]):
        cells = [day_cells.get(key) for day_cells in by_day]
        zone_name = next((cell.zone_name for cell in cells if cell and cell.zone_name), "")
        rows.append(Row(time=key[0], second_pass=key[1], cells=cells, zone_name=zone_name))
    return rows


def _cell(
    start: datetime,
    end: datetime,
    now_ts: float,
    opening: list[tuple[float, float]] | None,
    blocks: list[tuple[float, float, str]],
    booked: list[tuple[float, float, float, Booking]],
    member: Member | None,
    show_names: bool,
) -> Cell:
    s, e = start.timestamp(), end.timestamp()
    for b_start, b_end, _b_until, booking in booked:
        if b_start < e and s < b_end:
            is_mine = member is not None and booking.member_id == member.pk
            label = pgettext("grid cell", "Yours") if is_mine else pgettext("grid cell", "Booked")
            if show_names and not is_mine:
                label = booking.member.display_name
            return Cell(start, end, "mine" if is_mine else "taken", label, booking)
    for block_start, block_end, label in blocks:
        if block_start < e and s < block_end:
            return Cell(start, end, "blocked", label)
    if opening is not None and not any(o_start <= s and e <= o_end for o_start, o_end in opening):
        return Cell(start, end, "closed", pgettext("grid cell", "Closed"))
    for b_start, _b_end, b_until, _booking in booked:
        if b_start < e and s < b_until:
            return Cell(start, end, "buffer", pgettext("grid cell", "Buffer"))
    if e <= now_ts:  # the slot running now stays bookable (walk-up)
        return Cell(start, end, "past", "")
    return Cell(start, end, "free", pgettext("grid cell", "Free"))


def member_bookings_upcoming(member: Member, *, now: datetime | None = None) -> QuerySet[Booking]:
    now = now or clock.now()
    return Booking.objects.filter(
        member=member, end__gt=now, state__in=ACTIVE_STATES
    ).select_related("machine__location")


def member_bookings_past(member: Member, *, now: datetime | None = None) -> QuerySet[Booking]:
    now = now or clock.now()
    return (
        Booking.objects.filter(member=member)
        .exclude(end__gt=now, state__in=ACTIVE_STATES)
        .select_related("machine__location")
        .order_by("-start")
    )


def member_waits_open(member: Member) -> QuerySet[Wait]:
    """The member's places on waitlists, waiting or offered, soonest first (My bookings)."""
    return (
        Wait.objects.filter(member=member, state__in=OPEN_WAIT_STATES)
        .select_related("machine__location")
        .order_by("start", "id")
    )


def machine_waitlist(machine: Machine, *, now: datetime | None = None) -> QuerySet[Wait]:
    """A machine's open waits still to come, in the order they are offered (staff's view)."""
    now = now or clock.now()
    return (
        Wait.objects.filter(machine=machine, state__in=OPEN_WAIT_STATES, end__gt=now)
        .select_related("member__user")
        .order_by("start", "joined_at", "id")
    )


def bookings_on_day(day: date, *, scope: Scope = EVERYWHERE) -> QuerySet[Booking]:
    """Every booking of a local day (23, 24 or 25 hours long) at the locations in `scope`, for
    the staff desk."""
    start, end = local_day_bounds(day, timezone.get_current_timezone())
    return (
        scope.filter(Booking.objects.all(), "machine__location")
        .filter(start__gte=start, start__lt=end)
        .select_related("machine__location", "member__user")
        .order_by("start", "machine__name")
    )


def user_may_hold_machines(user: User | AnonymousUser, session: ClassSession) -> bool:
    """The session's instructor, an instructor of its certification, or training staff."""
    return user_can_manage_session(user, session) or user_can_sign_off(user, session.certification)


@dataclass(frozen=True)
class SessionMachine:
    """A machine as the class page offers it: held or not, and the bookings holding would cancel."""

    machine: Machine
    held: bool
    overlapping: list[Booking]


def session_machines(session: ClassSession) -> list[SessionMachine]:
    """Bookable machines for a class, those of its certification first."""
    held = set(session.machines.values_list("pk", flat=True))
    overlapping: dict[int, list[Booking]] = defaultdict(list)
    for booking in (
        Booking.objects.filter(
            state__in=ACTIVE_STATES, start__lt=session.end, end__gt=session.start
        )
        .select_related("member__user")
        .order_by("start")
    ):
        overlapping[booking.machine_id].append(booking)
    machines = sorted(
        machines_bookable(),
        key=lambda m: (m.required_certification_id != session.certification_id, m.name),
    )
    return [SessionMachine(m, m.pk in held, overlapping[m.pk]) for m in machines]
