"""Read-only: what a member can book on a machine before they click, why not, and what fixes it.

The week grid, the machine cards and the booking form ask here. Every answer comes from the
rules in `bookings.rules` (the same the booking service applies), over facts gathered once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.urls import reverse
from django.utils.translation import gettext as _

from bookings import rules
from bookings.models import Booking
from bookings.rules import Refusal, Refused
from bookings.selectors import Cell, booking_facts, check_in_opens, machine_rules, week_grid
from core import clock, formats
from core.time import add_duration, minutes_between, utc, week_start
from equipment.daypasses.selectors import day_pass_machines_ahead, day_pass_openings
from equipment.models import Machine
from equipment.selectors import machines_bookable
from locations.models import Area
from membership import selectors as membership_selectors
from membership.models import Member, User
from training import selectors as training_selectors


@dataclass(frozen=True)
class Outlook:
    """Whether `member` may book the machine at all, and if not why and the link that fixes it."""

    refused: Refused | None = None
    why: str = ""
    fix_label: str = ""
    fix_url: str = ""

    @property
    def may_book(self) -> bool:
        return self.refused is None

    @property
    def code(self) -> str:
        return self.refused.code if self.refused else ""


def member_outlook(*, member: Member, machine: Machine, now: datetime | None = None) -> Outlook:
    return machines_outlook(member=member, machines=[machine], now=now)[machine.pk]


def machines_outlook(
    *, member: Member, machines: Iterable[Machine], now: datetime | None = None
) -> dict[int, Outlook]:
    """`member_outlook` for each machine: the member's standing, plan, certifications and
    check-outs are read once for all of them (the area's day asks about every machine)."""
    now = now or clock.now()
    machines = list(machines)
    blockers = membership_selectors.member_machine_blockers(member, at=now)
    membership = getattr(member, "membership", None)
    plan = membership.plan if membership is not None else None
    named = membership_selectors.plans_named_locations([plan.pk]).get(plan.pk, ()) if plan else ()
    grants = training_selectors.certification_grants_held(
        member_ids=[member.pk],
        certification_ids={
            m.required_certification_id for m in machines if m.required_certification_id
        },
    )
    checkouts = training_selectors.checkouts_held(
        member_ids=[member.pk],
        checkout_ids={m.required_checkout_id for m in machines if m.required_checkout_id},
    )
    # A day pass (today or ahead) lets its holder try its machines; the booking itself is
    # checked against the pass's day.
    payment = membership_selectors.PAYMENT
    by_pass = (
        day_pass_machines_ahead(member=member, machines=machines, now=now)
        if payment in blockers or plan is None or not plan.all_locations
        else set()
    )
    # What the passes open, said on the machines they do not (read only for a member refused).
    opened: list[str] | None = None
    outlooks = {}
    for machine in machines:
        certification_id, checkout_id = (
            machine.required_certification_id,
            machine.required_checkout_id,
        )
        passed = machine.pk in by_pass
        left = [b for b in blockers if b != payment] if passed else blockers
        # The same facts `booking_facts` gathers for a booking, read now rather than at a start.
        refused = rules.member_refusal(
            may_use_machines=not left,
            plan_covers_location=passed
            or membership_selectors.plan_opens_location(plan, machine.location_id, named=named),
            certified=certification_id is None
            or any(
                training_selectors.grant_valid_at(grant, at=now)
                for grant in grants.get((member.pk, certification_id), [])
            ),
            checked_out=checkout_id is None
            or training_selectors.held_at(checkouts.get((member.pk, checkout_id), []), at=now),
            rules=machine_rules(machine),
        )
        if (
            refused is not None
            and refused.reason is Refusal.MEMBERSHIP_INACTIVE
            and payment in left
        ):
            opened = day_pass_openings(member=member, now=now) if opened is None else opened
        outlooks[machine.pk] = _explain(
            refused, member=member, machine=machine, blockers=left, now=now
        )
        if opened and refused is not None and refused.reason is Refusal.MEMBERSHIP_INACTIVE:
            outlooks[machine.pk] = replace(
                outlooks[machine.pk],
                why=_("Your day pass does not open %(machine)s. %(openings)s.")
                % {"machine": machine.name, "openings": "; ".join(opened)},
            )
    return outlooks


def _explain(
    refused: Refused | None, *, member: Member, machine: Machine, blockers: list[str], now: datetime
) -> Outlook:
    if refused is None:
        return Outlook()
    if refused.reason is Refusal.MEMBERSHIP_INACTIVE:
        return _membership_fix(refused, member=member, blocker=blockers[0], now=now)
    if refused.reason is Refusal.NOT_CERTIFIED and machine.required_certification is not None:
        return _certification_fix(refused, member=member, machine=machine, now=now)
    return Outlook(refused, refused.message)


def _membership_fix(refused: Refused, *, member: Member, blocker: str, now: datetime) -> Outlook:
    if blocker == membership_selectors.WAIVER:
        return Outlook(
            refused,
            _("Sign the current safety waiver first."),
            _("Sign it"),
            reverse("waiver_sign"),
        )
    if blocker == membership_selectors.BADGE:
        return Outlook(refused, _("Pick up your badge at the front desk first."))
    membership = getattr(member, "membership", None)
    billing = reverse("membership_billing")
    if membership is None:
        return Outlook(refused, _("You have no membership yet."), _("Start one"), billing)
    status = membership.get_status_display().lower()
    if membership.current_period_end:
        paid = formats.format_date(membership.current_period_end)
        why = _("Your membership is %(status)s (paid through %(date)s).") % {
            "status": status,
            "date": paid,
        }
    else:
        why = _("Your membership is %(status)s.") % {"status": status}
    return Outlook(refused, why, _("Pay"), billing)


def _certification_fix(
    refused: Refused, *, member: Member, machine: Machine, now: datetime
) -> Outlook:
    certification = machine.required_certification
    assert certification is not None
    held = next(
        (
            h
            for h in training_selectors.member_certification_summary(member, at=now)
            if h.certification.pk == certification.pk
        ),
        None,
    )
    if held is not None and held.state == training_selectors.GrantState.EXPIRED:
        expired = formats.format_date(held.grant.expires_at) if held.grant.expires_at else ""
        why = _("Your %(certification)s certification expired %(date)s: take a refresher.") % {
            "certification": certification.name,
            "date": expired,
        }
    elif held is not None and held.state == training_selectors.GrantState.REVOKED:
        why = _("Your %(certification)s certification was revoked: take the class again.") % {
            "certification": certification.name
        }
    else:
        why = _("Needs the %(certification)s certification.") % {
            "certification": certification.name
        }
    session = training_selectors.sessions_upcoming(at=now, certification=certification).first()
    if session is None:
        return Outlook(
            refused,
            " ".join([why, _("No class is scheduled yet.")]),
            _("Ask for one"),
            reverse("training:class_list"),
        )
    when = formats.format_moment(session.start)
    return Outlook(
        refused,
        " ".join([why, _("Next class %(when)s.") % {"when": when}]),
        _("Enrol"),
        reverse("training:session_detail", args=[session.pk]),
    )


@dataclass(frozen=True)
class Lengths:
    """The lengths the booking form offers for one start, the one preselected, and if none fits
    the rule that refuses even the shortest."""

    minutes: list[int]
    default: int | None
    refused: Refused | None
    # Longer from this start is taken by someone else: the panel offers to wait for it.
    waitable: bool = False


def _longest_facts(
    *, member: Member, machine: Machine, start: datetime, now: datetime
) -> tuple[rules.BookingFacts, rules.MachineRules]:
    """The facts for the longest booking from `start`: each shorter length is judged on them."""
    longest = add_duration(start, timedelta(minutes=machine.max_minutes))
    facts = booking_facts(member=member, machine=machine, start=start, end=longest, now=now)
    return facts, machine_rules(machine)


def _shortest_refusal(
    facts: rules.BookingFacts,
    machine_rules_: rules.MachineRules,
    judge: Callable[[rules.BookingFacts, rules.MachineRules], Refused | None],
) -> Refused | None:
    """Why not even the shortest length: what the panel says when it offers none."""
    shortest = add_duration(facts.start, timedelta(minutes=machine_rules_.min_minutes))
    return judge(replace(facts, end=shortest), machine_rules_)


def booking_lengths(
    *,
    member: Member,
    machine: Machine,
    start: datetime,
    now: datetime | None = None,
    for_anyone: bool = False,
) -> Lengths:
    """Every length from `start` that the booking rules accept, gathered once for the longest.

    `for_anyone`: staff booking for a member they name later; the machine's own rules (hours,
    blocks, other bookings) decide, the member's are checked when they book.
    """
    now = now or clock.now()
    facts, machine_rules_ = _longest_facts(member=member, machine=machine, start=start, now=now)
    if for_anyone:
        facts = replace(
            facts,
            may_use_machines=True,
            plan_covers_location=True,
            certified=True,
            checked_out=True,
            member_week_minutes=0,
            member_day_bookings=0,
        )
    minutes = rules.lengths_that_fit(facts, machine_rules_)
    refused = None if minutes else _shortest_refusal(facts, machine_rules_, rules.booking_refusal)
    # The same facts answer it (no more queries); staff book for others, who wait for themselves.
    waitable = not for_anyone and bool(rules.wait_lengths(facts, machine_rules_))
    default = rules.default_length(minutes, start=start, now=now)
    return Lengths(minutes, default, refused, waitable=waitable)


def wait_lengths(
    *,
    member: Member,
    machine: Machine,
    start: datetime,
    until: datetime | None = None,
    now: datetime | None = None,
) -> Lengths:
    """Every length from `start` the member may wait for (`rules.wait_lengths`), gathered once
    for the longest. Preselected: the one ending at `until` (the end of the booking clicked on
    the grid) when it is offered, else the shortest."""
    now = now or clock.now()
    facts, machine_rules_ = _longest_facts(member=member, machine=machine, start=start, now=now)
    minutes = rules.wait_lengths(facts, machine_rules_)
    refused = None if minutes else _shortest_refusal(facts, machine_rules_, rules.wait_refusal)
    wanted = minutes_between(start, until) if until is not None else None
    default = next((m for m in minutes if m == wanted), minutes[0] if minutes else None)
    return Lengths(minutes, default, refused)


def horizon_label(machine: Machine) -> str:
    return _("Opens %(days)s days ahead") % {"days": machine.book_ahead_days}


@dataclass(frozen=True)
class BookingActions:
    """What can be done with one booking now, by the person looking: only these are offered."""

    booking: Booking
    running: bool
    can_cancel: bool
    can_check_in: bool
    can_extend: bool
    can_finish: bool
    extensions: list[int]
    can_hand_over: bool = False

    @property
    def token(self) -> uuid.UUID:
        """A fresh one-time form token for each form rendered (core.forms.OnceForm's)."""
        return uuid.uuid4()


def booking_actions(booking: Booking, *, user: User, now: datetime | None = None) -> BookingActions:
    """The booking service's own refusals, asked before offering a button. Check-in is the badge
    scan at the machine, so it is offered to booking staff only."""
    now = now or clock.now()
    is_owner = booking.member.user_id == user.pk
    is_staff = user.has_perm("bookings.manage_bookings", booking.machine)
    state, start, end = booking.state, booking.start, booking.end
    next_end = add_duration(booking.end, timedelta(minutes=booking.machine.slot_minutes))
    can_extend = (is_owner or is_staff) and rules.extend_refusal(
        new_end=next_end, state=state, start=start, end=end, now=now
    ) is None
    return BookingActions(
        booking=booking,
        running=utc(booking.start) <= utc(now) < utc(booking.end),
        can_cancel=rules.cancel_refusal(
            is_owner=is_owner, is_staff=is_staff, state=state, start=start, end=end, now=now
        )
        is None,
        can_check_in=is_staff
        and rules.check_in_refusal(
            opens_minutes=check_in_opens() // timedelta(minutes=1),
            state=state,
            start=start,
            end=end,
            now=now,
        )
        is None,
        can_extend=can_extend,
        can_finish=rules.finish_refusal(
            is_owner=is_owner, is_staff=is_staff, state=state, start=start, end=end, now=now
        )
        is None,
        extensions=extensions_that_fit(booking, now=now) if can_extend else [],
        can_hand_over=rules.hand_over_refusal(
            is_owner=is_owner,
            is_staff=is_staff,
            same_member=False,
            state=state,
            start=start,
            now=now,
        )
        is None,
    )


def extensions_that_fit(booking: Booking, *, now: datetime | None = None) -> list[int]:
    """How many minutes a running booking can be made longer by, slot by slot, up to its
    machine's longest booking: each judged by the same rules as the extend service."""
    now = now or clock.now()
    machine = booking.machine
    rules_ = machine_rules(machine)
    longest = add_duration(booking.start, timedelta(minutes=machine.max_minutes))
    if utc(longest) <= utc(booking.end):
        return []
    facts = booking_facts(
        member=booking.member,
        machine=machine,
        start=booking.start,
        end=longest,
        now=now,
        exclude_pk=booking.pk,
        extending=True,
    )
    fitting = []
    extra = machine.slot_minutes
    while utc(add_duration(booking.end, timedelta(minutes=extra))) <= utc(longest):
        end = add_duration(booking.end, timedelta(minutes=extra))
        if rules.booking_refusal(replace(facts, end=end), rules_) is not None:
            break
        fitting.append(extra)
        extra += machine.slot_minutes
    return fitting


@dataclass(frozen=True)
class AreaDay:
    """Several machines side by side for one day: `rows` of (wall time, one cell per machine,
    None where that machine has no slot starting then), with what this member may book."""

    area: Area | None
    day: date
    machines: list[Machine]
    outlooks: list[Outlook]
    rows: list[tuple[str, list[Cell | None]]]


def area_day(
    *,
    area: Area | None,
    day: date,
    member: Member,
    show_names: bool = False,
    now: datetime | None = None,
) -> AreaDay:
    """The day of every bookable machine in `area`, from each machine's own week grid (the same
    cells, statuses and rules as the machine's calendar)."""
    now = now or clock.now()
    machines = list(machines_bookable().filter(area=area).order_by("name")) if area else []
    outlooks = machines_outlook(member=member, machines=machines, now=now)
    monday = week_start(day)
    columns: list[dict[datetime, Cell]] = []
    for machine in machines:
        grid = week_grid(
            machine=machine,
            monday=monday,
            member=member,
            show_names=show_names,
            now=now,
            may_book=show_names or outlooks[machine.pk].may_book,
        )
        that_day = next(d.cells for d in grid.days if d.date == day)
        columns.append({utc(cell.start): cell for cell in that_day})
    starts = sorted({start for column in columns for start in column})
    rows: list[tuple[str, list[Cell | None]]] = []
    for start in starts:
        row: list[Cell | None] = [column.get(start) for column in columns]
        label = next(c for c in row if c is not None)
        rows.append((formats.format_time(label.start), row))
    return AreaDay(area, day, machines, [outlooks[m.pk] for m in machines], rows)


def bookable_areas() -> list[Area]:
    """The areas (rooms) that have a bookable machine, by location and name."""
    return list(
        Area.objects.filter(machines__in=machines_bookable()).distinct().select_related("location")
    )
