"""Read-only questions about machines: who may service them, when they are open or blocked."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from django.contrib.auth.models import AnonymousUser, Permission
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from schedule.models import Event

from core.time import utc, wall_clock_instant
from equipment import rules
from equipment.models import (
    SEVERITY_ORDER,
    Machine,
    MachineEvent,
    MachineState,
    ProblemReport,
    Severity,
)
from equipment.rules import merge_intervals
from locations.zones import in_zone_of
from membership.models import User
from staffing.selectors import EVERYWHERE, Scope

Interval = rules.Interval
# How opening hours name weekdays in their django-scheduler rule ("byweekday:MO,TU").
WEEKDAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@dataclass(frozen=True)
class CalendarFacts:
    """What a machine's calendars say about a span: open intervals and blocked intervals.

    `opening` is None when the machine has no opening hours set: it may be booked at any time.
    `blocks` holds (start, end, label) of maintenance occurrences and class sessions.
    """

    opening: list[Interval] | None
    blocks: list[tuple[datetime, datetime, str]]


def machines_bookable() -> QuerySet[Machine]:
    # The location: its time zone shapes every slot (`machine_rules`).
    return Machine.objects.exclude(state=MachineState.RETIRED).select_related(
        "required_certification", "location"
    )


def user_may_service(user: User | AnonymousUser, machine: Machine) -> bool:
    """Maintainers of this machine and staff who manage machines may change its service state."""
    if not user.is_authenticated:
        return False
    return (
        user.has_perm("equipment.manage_machines", machine)
        or machine.maintainers.filter(pk=user.pk).exists()
    )


def problem_reports_open(
    reports: QuerySet[ProblemReport] | None = None, *, scope: Scope = EVERYWHERE
) -> QuerySet[ProblemReport]:
    """Open reports of the machines at the locations in `scope`, worst first, then oldest first
    (the one waiting longest is at the top). `reports` narrows the set first (one machine).
    """
    reports = ProblemReport.objects.all() if reports is None else reports
    reports = scope.filter(reports, "machine__location")
    rank = Case(
        *(When(severity=severity, then=Value(i)) for i, severity in enumerate(SEVERITY_ORDER)),
        output_field=IntegerField(),
    )
    return (
        reports.filter(resolved_at__isnull=True)
        .select_related("machine", "reporter")
        .annotate(severity_rank=rank)
        .order_by("severity_rank", "created_at", "id")
    )


def problem_reports_open_counts(
    reports: QuerySet[ProblemReport] | None = None, *, scope: Scope = EVERYWHERE
) -> dict[str, int]:
    """How many reports are open, by severity and in all (`"total"`): one query."""
    reports = ProblemReport.objects.all() if reports is None else reports
    reports = scope.filter(reports, "machine__location")
    counts = reports.filter(resolved_at__isnull=True).aggregate(
        total=Count("id"),
        **{severity.value: Count("id", filter=Q(severity=severity)) for severity in Severity},
    )
    return {name: counts[name] or 0 for name in counts}


def machine_safety_reports_open(machine: Machine) -> QuerySet[ProblemReport]:
    return ProblemReport.objects.filter(
        machine=machine, severity=Severity.SAFETY, resolved_at__isnull=True
    )


def problem_report_recipients(machine: Machine) -> list[User]:
    """Who hears of a report (active, with an address): the machine's maintainers, or staff who
    manage machines. People, not addresses: each is written to in their own language."""
    maintainers = list(
        machine.maintainers.filter(is_active=True).exclude(email="").order_by("email")
    )
    if maintainers:
        return maintainers
    permission = Permission.objects.get(
        content_type__app_label="equipment", codename="manage_machines"
    )
    staff = User.objects.filter(
        Q(is_superuser=True) | Q(groups__permissions=permission) | Q(user_permissions=permission),
        is_active=True,
    ).exclude(email="")
    return list(staff.distinct().order_by("email"))


# django-scheduler may place an occurrence up to a daylight-saving shift away from its wall-clock
# span; asking it for a day more on each side finds every occurrence that touches the span.
_OCCURRENCE_MARGIN = timedelta(days=1)


def _wall_length(machine_event: MachineEvent) -> timedelta:
    """How long each occurrence lasts on the wall clock.

    Opening hours store it as the event's real length (`opening_hours_add` adds it in UTC);
    maintenance stores the instants staff typed, so it is the wall-clock span between them.
    """
    event = machine_event.event
    if machine_event.kind == MachineEvent.Kind.OPENING:
        return event.end - event.start
    naive = [timezone.localtime(moment).replace(tzinfo=None) for moment in (event.start, event.end)]
    return naive[1] - naive[0]


def machine_event_spans(
    machine_event: MachineEvent, *, start: datetime, end: datetime
) -> list[Interval]:
    """The occurrences of a machine's opening-hours or maintenance event touching [start, end).

    In UTC, each from the wall-clock time it repeats at to that time plus its wall-clock length:
    "Sundays 01:00 to 03:00" is three real hours on the fall-back night and one on spring
    forward. (django-scheduler gives every occurrence the first one's real length and reads a
    repeated start time as its second pass.) A time that happens twice opens at its first reading
    and closes at its last; a skipped one at the moment the clocks jump. A one-off event and a
    moved occurrence keep their instants; cancelled occurrences are left out.
    """
    event = machine_event.event
    zone = timezone.get_current_timezone()
    wall_length = _wall_length(machine_event)
    start, end = utc(start), utc(end)
    spans = []
    # Asked in the space's zone: django-scheduler expands the rule in the zone of its arguments.
    for occurrence in _series_near(event, start - _OCCURRENCE_MARGIN, zone).get_occurrences(
        timezone.localtime(start - _OCCURRENCE_MARGIN, zone),
        timezone.localtime(end + _OCCURRENCE_MARGIN, zone),
        clear_prefetch=False,
    ):
        if occurrence.cancelled:
            continue
        if event.rule is None or occurrence.pk is not None:
            span = (utc(occurrence.start), utc(occurrence.end))
        else:
            # The rule's own wall-clock time: django-scheduler localises it without normalising.
            wall_start = occurrence.start.replace(tzinfo=None)
            wall_end = wall_start + wall_length
            span = (
                wall_clock_instant(wall_start.date(), wall_start.time(), zone),
                wall_clock_instant(wall_end.date(), wall_end.time(), zone, last=True),
            )
        if span[0] < end and start < span[1]:
            spans.append(span)
    return spans


# Rules whose series may start again a whole number of weeks later with the same occurrences from
# there on: every day or every week, no count, no interval (django-scheduler's `Rule.params`).
_WEEK_SHIFTABLE = {"DAILY", "WEEKLY"}
_SHIFT_BREAKERS = {"count", "interval", "bysetpos", "byyearday", "byweekno", "bymonthday"}


def _series_near(event: Event, before: datetime, zone: tzinfo) -> Event:
    """`event`, or a copy of it whose series starts whole weeks later, up to a week before `before`.

    django-scheduler's rrule walks from the series' first occurrence to the span asked for: ~340
    steps a year after opening hours were set, growing every day. Started near the span it walks
    a week's worth. Chosen over caching each machine-week's expansion: nothing to invalidate when
    hours, maintenance or a moved occurrence change, and the same answer in every process.
    The copy keeps the event's id and its prefetched occurrences, so moved and cancelled
    occurrences still replace theirs; a rule that counts or skips (count, interval...) is left
    as it is, and so is a shift that would change the wall-clock start or the rule's parameters.
    """
    rule = event.rule
    if rule is None or rule.frequency not in _WEEK_SHIFTABLE or event.start >= before:
        return event
    if _SHIFT_BREAKERS & set(rule.get_params()):
        return event
    wall = timezone.localtime(event.start, zone).replace(tzinfo=None)
    weeks = (before - event.start) // timedelta(weeks=1) - 1
    if weeks <= 0:
        return event
    shifted_wall = wall + timedelta(weeks=weeks)
    near = copy.copy(event)
    near.start = utc(timezone.make_aware(shifted_wall, zone))
    # django-scheduler reads the wall clock back from the instant: it must be the same time.
    if timezone.localtime(near.start, zone).replace(tzinfo=None) != shifted_wall:
        return event
    near.end = near.start + (event.end - event.start)
    if near._event_params() != event._event_params():
        return event
    return near


@in_zone_of("machine")
def machine_calendar_facts(machine: Machine, *, start: datetime, end: datetime) -> CalendarFacts:
    """Opening hours and blocks of `machine` that touch [start, end), from two queries.

    Recurrences follow the wall clock of the space's time zone (`machine_event_spans`), so
    "9:00 to 21:00 on weekdays" stays 9 to 21 across daylight-saving changes. Instants in UTC.
    """
    opening: list[Interval] = []
    has_opening = False
    blocks: list[tuple[datetime, datetime, str]] = []
    events = (
        MachineEvent.objects.filter(machine=machine)
        .select_related("event__rule")
        .prefetch_related("event__occurrence_set")
    )
    for machine_event in events:
        is_opening = machine_event.kind == MachineEvent.Kind.OPENING
        has_opening = has_opening or is_opening
        for span_start, span_end in machine_event_spans(machine_event, start=start, end=end):
            if is_opening:
                opening.append((span_start, span_end))
            else:
                label = (
                    _("Maintenance: %(reason)s") % {"reason": machine_event.reason}
                    if machine_event.reason
                    else ""
                )
                blocks.append((span_start, span_end, label or _("Maintenance")))
    sessions = machine.class_sessions.filter(
        cancelled_at__isnull=True, start__lt=end, end__gt=start
    ).select_related("certification")
    blocks.extend(
        (
            utc(s.start),
            utc(s.end),
            _("Class: %(certification)s") % {"certification": s.certification.name},
        )
        for s in sessions
    )
    return CalendarFacts(
        opening=merge_intervals(opening) if has_opening else None,
        blocks=sorted(blocks),
    )


@dataclass(frozen=True)
class OpeningInterval:
    """One weekday's opening hours, as staff set them: `closes` at 00:00 is midnight."""

    weekday: int
    opens: time
    closes: time
    opening_id: int  # the MachineEvent whose weekly event holds these hours

    @property
    def closes_label(self) -> str:
        return rules.closing_label(self.closes)


def opening_weekdays(event: Event) -> list[int]:
    """The weekdays (0 = Monday) an opening-hours event recurs on."""
    assert event.rule is not None, "opening hours always recur (equipment.services._opening_rule)"
    codes = event.rule.params.partition("byweekday:")[2]
    return [WEEKDAY_CODES.index(code) for code in codes.split(",") if code in WEEKDAY_CODES]


@in_zone_of("machine")
def opening_intervals(machine: Machine) -> list[OpeningInterval]:
    """The machine's weekly opening hours, weekday by weekday, earliest first."""
    intervals = []
    for opening in machine.events.filter(kind=MachineEvent.Kind.OPENING).select_related(
        "event__rule"
    ):
        local_start = timezone.localtime(opening.event.start)
        # Opening plus the event's length, in wall-clock time: what staff typed in.
        closes = (
            local_start.replace(tzinfo=None) + (opening.event.end - opening.event.start)
        ).time()
        intervals += [
            OpeningInterval(day, local_start.time(), closes, opening.pk)
            for day in opening_weekdays(opening.event)
        ]
    return sorted(intervals, key=lambda i: (i.weekday, i.opens))


@dataclass(frozen=True)
class OpeningWeek:
    """Each weekday's name with its opening intervals (none: closed that day)."""

    days: list[tuple[str, list[OpeningInterval]]]

    @property
    def is_set(self) -> bool:
        """False when no hours are set: the machine may then be booked at any time."""
        return any(intervals for _, intervals in self.days)


def opening_week(machine: Machine) -> OpeningWeek:
    intervals = opening_intervals(machine)
    return OpeningWeek(
        [
            (str(name), [i for i in intervals if i.weekday == day])
            for day, name in enumerate(rules.WEEKDAY_NAMES)
        ]
    )
