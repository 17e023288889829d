"""Scheduling classes: single sessions, recurring series through django-scheduler, moves, cancels.

A series is a django-scheduler `Event` with a `Rule` on the "Classes" calendar. Its occurrences
are materialised into `ClassSession` rows up to a horizon (so enrollments point at something
concrete); moving or cancelling one session also persists the matching `Occurrence` as moved or
cancelled, so the calendar and the sessions never disagree.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from schedule.models import Calendar, Event, Occurrence, Rule

from core.setup import setup_change_record
from core.submissions import submission_claim
from core.time import add_duration, utc, wall_clock_instant
from locations import zones
from locations.models import Area, Location, default_location
from locations.zones import in_zone_of
from staffing.models import Role
from staffing.selectors import teaching_scope
from staffing.services import require_at_location
from training import guests, notifications, rules, selectors
from training.errors import NotAllowed, TrainingError
from training.models import (
    Certification,
    ClassSeries,
    ClassSession,
    Enrollment,
    EnrollmentStatus,
    GuestSeat,
)

CLASSES_CALENDAR = "classes"
# What a caller above training does once a series' new sessions exist, in the same transaction.
SeriesFollowUp = Callable[[ClassSeries, list[ClassSession]], None]
# How far ahead a series has concrete sessions members can enroll in; `extend_class_series`
# (run daily) keeps the horizon rolling.
HORIZON = timedelta(weeks=12)


class Frequency:
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    CHOICES = [
        (WEEKLY, gettext_lazy("Every week")),
        (FORTNIGHTLY, gettext_lazy("Every two weeks")),
        (MONTHLY, gettext_lazy("Every month")),
    ]
    # name -> (django-scheduler frequency, rrule params)
    RULES = {
        WEEKLY: ("WEEKLY", ""),
        FORTNIGHTLY: ("WEEKLY", "interval:2"),
        MONTHLY: ("MONTHLY", ""),
    }


def classes_calendar() -> Calendar:
    calendar, _created = Calendar.objects.get_or_create(
        slug=CLASSES_CALENDAR, defaults={"name": "Classes"}
    )
    return calendar


def _rule(frequency: str, weekdays: Sequence[int] = ()) -> Rule:
    """The django-scheduler rule of a repeat. Every week on chosen weekdays is a daily rule
    limited to them: django-scheduler narrows a weekly rule's weekdays to the first class's."""
    if frequency not in Frequency.RULES:
        raise TrainingError(_("%(frequency)r is not a repeat we offer.") % {"frequency": frequency})
    rrule_frequency, params = Frequency.RULES[frequency]
    label = dict(Frequency.CHOICES)[frequency]
    if weekdays:
        if frequency != Frequency.WEEKLY:
            raise TrainingError(_("Choose weekdays for a weekly class only."))
        if not set(weekdays) <= set(range(7)):
            raise TrainingError(_("A weekday is one of Monday to Sunday."))
        rrule_frequency = "DAILY"
        params = "byweekday:" + ",".join(str(day) for day in sorted(set(weekdays)))
        label = _("Weekly: %(weekdays)s") % {"weekdays": rules.weekdays_label(weekdays)}
    rule = Rule.objects.filter(frequency=rrule_frequency, params=params).first()
    return rule or Rule.objects.create(
        name=label[:32],
        description=_("Class series: %(label)s") % {"label": label.lower()},
        frequency=rrule_frequency,
        params=params,
    )


def series_weekdays(series: ClassSeries) -> list[int]:
    """The weekdays a series meets on: its rule's, else its first class's (local) weekday."""
    event = series.event
    if event.rule is not None and event.rule.frequency == "DAILY":
        days = event.rule.get_params().get("byweekday", [])
        return sorted(days if isinstance(days, list) else [days])
    with zones.at(series):
        return [timezone.localtime(event.start).weekday()]


def series_frequency(series: ClassSeries) -> str:
    rule = series.event.rule
    if rule is None or rule.frequency == "DAILY":
        return Frequency.WEEKLY
    for name, (frequency, params) in Frequency.RULES.items():
        if (rule.frequency, rule.params) == (frequency, params):
            return name
    return Frequency.WEEKLY


def _where(location: Location | None, area: Area | None) -> Location:
    """The class's location (None: the default one); its area must be a room of it."""
    location = location or default_location()
    if location.archived:
        raise TrainingError(
            _("%(location)s is archived: classes are scheduled at open locations.")
            % {"location": location}
        )
    if area is not None and area.location_id != location.pk:
        raise TrainingError(
            _("%(area)s is not an area of %(location)s.") % {"area": area, "location": location}
        )
    return location


def _require_manager(actor, location: Location) -> None:
    if not actor.has_perm("training.manage_training"):
        raise NotAllowed(_("Only training staff can schedule classes."))
    require_at_location(
        user=actor, obj=location, what=f"Schedule a class at {location}", role=Role.STAFF
    )


def _check_slot(
    *, certification: Certification, instructor, location: Location, start, end, capacity
) -> None:
    if end <= start:
        raise TrainingError(_("A class must end after it starts."))
    if start <= timezone.now():
        raise TrainingError(_("A class must start in the future."))
    if capacity < 1:
        raise TrainingError(_("A class needs at least one seat."))
    if not certification.instructors.filter(pk=instructor.pk).exists():
        raise TrainingError(
            _("%(instructor)s is not an instructor of %(certification)s.")
            % {"instructor": instructor, "certification": certification}
        )
    if not teaching_scope(instructor).includes(location.pk):
        raise TrainingError(
            _(
                "%(instructor)s does not teach at %(location)s: give them the instructor role there first."
            )
            % {"instructor": instructor, "location": location}
        )


def session_create(
    *,
    certification: Certification,
    instructor,
    start: datetime,
    end: datetime,
    capacity: int,
    place: str = "",
    location: Location | None = None,
    area: Area | None = None,
    actor,
    token: uuid.UUID | None = None,
) -> ClassSession:
    """Schedule one class, at `location` (None: the default one) and in its `area`."""
    location = _where(location, area)
    _require_manager(actor, location)  # before the transaction, so the refusal is kept
    with transaction.atomic():
        submission_claim(token)
        _check_slot(
            certification=certification,
            instructor=instructor,
            location=location,
            start=start,
            end=end,
            capacity=capacity,
        )
        return ClassSession.objects.create(
            certification=certification,
            instructor=instructor,
            start=start,
            end=end,
            capacity=capacity,
            place=place.strip(),
            location=location,
            area=area,
        )


def series_create(
    *,
    certification: Certification,
    instructor,
    start: datetime,
    end: datetime,
    frequency: str,
    until: date | None,
    capacity: int,
    place: str = "",
    location: Location | None = None,
    area: Area | None = None,
    weekdays: Sequence[int] = (),
    fee_minor: int | None = None,
    actor,
    token: uuid.UUID | None = None,
    then: SeriesFollowUp | None = None,
) -> ClassSeries:
    """Schedule a recurring class from its first meeting; sessions appear up to the horizon.

    The rule repeats on the wall clock of the class's location: a 6 pm class stays at 6 pm there
    across daylight-saving changes, wherever the person scheduling it sits. Every week may name
    several `weekdays`; the first class is then the first of them from `start`'s day.
    `then(series, sessions)` runs in the transaction once the sessions exist, before the change
    is recorded (bookings holds the series' machines there).
    """
    location = _where(location, area)
    _require_manager(actor, location)  # before the transaction, so the refusal is kept
    with transaction.atomic(), zones.at(location):
        submission_claim(token)
        _check_slot(
            certification=certification,
            instructor=instructor,
            location=location,
            start=start,
            end=end,
            capacity=capacity,
        )
        if until is not None and until < timezone.localdate(start):
            raise TrainingError(_("The series must end on or after its first class."))
        event = Event.objects.create(
            title=_("%(certification)s class") % {"certification": certification},
            description=place.strip(),
            start=start,
            end=end,
            rule=_rule(frequency, weekdays),
            end_recurring_period=_end_of(until),
            calendar=classes_calendar(),
            creator=actor,
        )
        series = ClassSeries.objects.create(
            event=event,
            certification=certification,
            instructor=instructor,
            capacity=capacity,
            place=place.strip(),
            location=location,
            area=area,
            fee_minor=fee_minor,
            created_by=actor,
        )
        created = series_materialise(series=series, until=timezone.now() + HORIZON)
        if then is not None:
            then(series, created)
        setup_change_record(
            subject_type="class series",
            subject=series,
            actor=actor,
            before=None,
            after=series_snapshot(series),
        )
    return series


def _end_of(until: date | None) -> datetime | None:
    """The recurrence's end, in the current (the class's) zone: inclusive, a class on the last
    day still happens."""
    return timezone.make_aware(datetime.combine(until, time.max)) if until else None


def series_first_class(
    *, location: Location, first_date: date, at: time, minutes: int, weekdays: Sequence[int] = ()
) -> tuple[datetime, datetime]:
    """The first class's start and end: the first of `weekdays` from `first_date`, at `at` on
    the wall clock of `location` (a time the clocks skip begins when they jump over it)."""
    if minutes < 1:
        raise TrainingError(_("A class lasts at least a minute."))
    day = rules.first_meeting(first_date, weekdays)
    start = wall_clock_instant(day, at, zones.zone_of(location))
    return start, add_duration(start, timedelta(minutes=minutes))


def series_until(
    *, first: date, frequency: str, weekdays: Sequence[int], until: date | None, count: int | None
) -> date | None:
    """The series' last date: `until`, or the date of its `count`th class (a count is kept as
    the last date it gives, so changing the schedule later never re-counts the classes held)."""
    if count is None:
        return until
    if count < 1:
        raise TrainingError(_("A series has at least one class."))
    if until is not None:
        raise TrainingError(_("Give a last date or a number of classes, not both."))
    return rules.last_date_of(first=first, frequency=frequency, weekdays=weekdays, count=count)


def series_snapshot(series: ClassSeries) -> dict[str, str]:
    """The series as staff read it, field by field, for the setup history."""
    event = series.event
    with zones.at(series):
        start = timezone.localtime(event.start)
        last = (
            timezone.localtime(event.end_recurring_period) if event.end_recurring_period else None
        )
    frequency = series_frequency(series)
    repeat = dict(Frequency.CHOICES)[frequency]
    if frequency == Frequency.WEEKLY:
        repeat += f" on {rules.weekdays_label(series_weekdays(series))}"
    machines = getattr(series, "machines", None)
    return {
        "certification": str(series.certification),
        "instructor": series.instructor.get_full_name() or series.instructor.email,
        "schedule": f"{repeat} at {start:%H:%M}, {int((event.end - event.start).total_seconds() // 60)} min",
        "from": f"{start:%Y-%m-%d}",
        "until": f"{last:%Y-%m-%d}" if last else "",
        "seats": str(series.capacity),
        "fee_minor": "" if series.fee_minor is None else str(series.fee_minor),
        "location": str(series.location),
        "area": str(series.area or ""),
        "place": series.place,
        "machines": ", ".join(sorted(str(m) for m in machines.all()))
        if machines is not None
        else "",
    }


@dataclass
class SeriesChanged:
    """What a change to a series did to its sessions to come."""

    series: ClassSeries
    created: list[ClassSession]
    kept: list[ClassSession]
    removed: int
    cancelled: int


def series_change(
    *,
    series: ClassSeries,
    instructor,
    frequency: str,
    weekdays: Sequence[int],
    first_date: date,
    at: time,
    minutes: int,
    until: date | None,
    capacity: int,
    place: str,
    area: Area | None,
    fee_minor: int | None,
    actor,
    token: uuid.UUID | None = None,
    then: SeriesFollowUp | None = None,
) -> SeriesChanged:
    """Change a series from `first_date` on: its sessions to come follow the new schedule.

    Sessions with members enrolled or waitlisted stay exactly as they were booked (time,
    instructor, seats, fee) and their members are emailed that theirs is kept; staff move or
    cancel one of them on its own page. The new schedule skips the days of the kept ones. Other
    sessions to come are replaced (those with only cancelled enrollments are cancelled, to keep
    their history). The certification and the location stay: another class is another series.
    """
    now = timezone.now()
    _require_manager(actor, series.location)  # before the transaction, so the refusal is kept
    with transaction.atomic(), zones.at(series):
        submission_claim(token)
        locked = (
            ClassSeries.objects.select_for_update(of=("self",))
            .select_related("event__rule", "certification", "location")
            .get(pk=series.pk)
        )
        if area is not None and area.location_id != locked.location_id:
            raise TrainingError(
                _("%(area)s is not an area of %(location)s.")
                % {"area": area, "location": locked.location}
            )
        if first_date < timezone.localdate(now):
            raise TrainingError(_("A change applies from today or a later day, never the past."))
        before = series_snapshot(locked)
        start, end = series_first_class(
            location=locked.location,
            first_date=first_date,
            at=at,
            minutes=minutes,
            weekdays=weekdays if frequency == Frequency.WEEKLY else (),
        )
        _check_slot(
            certification=locked.certification,
            instructor=instructor,
            location=locked.location,
            start=start,
            end=end,
            capacity=capacity,
        )
        if until is not None and until < timezone.localdate(start):
            raise TrainingError(_("The series must end on or after its first class."))
        event = locked.event
        cut = max(now, wall_clock_instant(first_date, time(), zones.zone_of(locked)))
        to_come = list(
            ClassSession.objects.locked()
            .filter(series=event, start__gte=cut, cancelled_at__isnull=True)
            .order_by("start")
        )
        facts = _session_facts(to_come)
        plan = rules.series_change_plan(facts)
        kept = [s for s in to_come if s.pk in plan.kept]
        staying = list(
            ClassSession.objects.filter(
                series=event, start__gt=now, cancelled_at__isnull=True
            ).exclude(pk__in=plan.removed + plan.cancelled)
        )
        # The sessions that stay keep their own dates: persisted, they no longer need the rule.
        for session in staying:
            _pin_occurrence(session)
        Occurrence.objects.filter(event=event, original_start__gte=cut).exclude(
            original_start__in=[s.original_start for s in staying]
        ).delete()
        ClassSession.objects.filter(pk__in=plan.removed).delete()
        ClassSession.objects.filter(pk__in=plan.cancelled).update(
            cancelled_at=now, cancel_reason=_("The series has a new schedule.")
        )
        event.start, event.end = start, end
        event.rule = _rule(frequency, weekdays if frequency == Frequency.WEEKLY else ())
        event.end_recurring_period = _end_of(until)
        event.description = place.strip()
        event.save()
        locked.instructor, locked.capacity, locked.place = instructor, capacity, place.strip()
        locked.area, locked.fee_minor = area, fee_minor
        locked.save(update_fields=["instructor", "capacity", "place", "area", "fee_minor"])
        _skip_days_of(kept, event=event, until=now + HORIZON)
        created = series_materialise(series=locked, until=now + HORIZON)
        if then is not None:
            then(locked, created)
        notifications.series_kept_notify([s.pk for s in kept])
        setup_change_record(
            subject_type="class series",
            subject=locked,
            actor=actor,
            before=before,
            after=series_snapshot(locked),
        )
    return SeriesChanged(
        series=locked,
        created=created,
        kept=kept,
        removed=len(plan.removed),
        cancelled=len(plan.cancelled),
    )


def _session_facts(sessions: list[ClassSession]) -> list[rules.SessionFacts]:
    active = [EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED]
    members: dict[int, int] = {}
    any_row: set[int] = set()
    rows = Enrollment.objects.filter(session__in=sessions).values_list("session_id", "status")
    for session_id, status in rows:
        any_row.add(session_id)
        if status in active:
            members[session_id] = members.get(session_id, 0) + 1
    return [
        rules.SessionFacts(id=s.pk, members=members.get(s.pk, 0), any_enrollment=s.pk in any_row)
        for s in sessions
    ]


def _pin_occurrence(session: ClassSession) -> None:
    """Persist a session's occurrence where it is, so it stays findable (to move or cancel it)
    when its series' rule changes."""
    if session.series_id is None or session.original_start is None:
        return
    Occurrence.objects.get_or_create(
        event_id=session.series_id,
        original_start=session.original_start,
        defaults={
            "start": session.start,
            "end": session.end,
            "original_end": add_duration(session.original_start, session.end - session.start),
            "title": session.series.title if session.series else "",
            "description": "",
        },
    )


def _skip_days_of(kept: list[ClassSession], *, event: Event, until: datetime) -> None:
    """The new schedule's class on a kept session's (local) day is cancelled in the calendar:
    that day the members' class is the one they booked."""
    if not kept:
        return
    zone = timezone.get_current_timezone()
    days = {timezone.localtime(s.start, zone).date() for s in kept}
    kept_starts = {utc(s.original_start) for s in kept if s.original_start}
    start = min(s.start for s in kept)
    for occurrence in event.get_occurrences(
        timezone.localtime(start, zone) - timedelta(days=1), timezone.localtime(until, zone)
    ):
        if occurrence.cancelled or utc(occurrence.original_start) in kept_starts:
            continue
        if timezone.localtime(occurrence.start, zone).date() in days:
            occurrence.cancel()


@in_zone_of("series")
def series_materialise(*, series: ClassSeries, until: datetime) -> list[ClassSession]:
    """Create the sessions of `series` that start between now and `until` and are missing.

    Occurrences come from django-scheduler with persisted moves and cancellations applied; the
    rule is evaluated in the space's time zone so a 6 pm class stays at 6 pm across DST.
    Idempotent: a session already made for an occurrence (moved or not) is left alone.
    """
    now = timezone.now()
    zone = timezone.get_current_timezone()
    event = series.event
    occurrences = event.get_occurrences(
        timezone.localtime(now, zone), timezone.localtime(until, zone)
    )
    created = []
    for occurrence in occurrences:
        if occurrence.cancelled or occurrence.start <= now:
            continue
        session, made = ClassSession.objects.get_or_create(
            series=event,
            original_start=occurrence.original_start,
            defaults={
                "certification": series.certification,
                "instructor": series.instructor,
                "start": occurrence.start,
                "end": occurrence.end,
                "capacity": series.capacity,
                "place": series.place,
                "location": series.location,
                "area": series.area,
                "fee_minor": series.fee_minor,
            },
        )
        if made:
            created.append(session)
    return created


def series_extend_all(*, horizon: timedelta = HORIZON, then: SeriesFollowUp | None = None) -> int:
    """Roll every series' sessions forward to now + horizon; returns how many were created.
    `then(series, sessions)` runs in each series' transaction (bookings holds machines there)."""
    until = timezone.now() + horizon
    created = 0
    for series in ClassSeries.objects.select_related("event__rule", "certification", "instructor"):
        with transaction.atomic():
            sessions = series_materialise(series=series, until=until)
            if then is not None and sessions:
                then(series, sessions)
            created += len(sessions)
    return created


@in_zone_of("session")
def _occurrence(session: ClassSession) -> Occurrence | None:
    """The django-scheduler occurrence behind a series session (persisted or not yet).

    Matched on the instant it was first scheduled for. django-scheduler's `get_occurrence` looks
    it up by wall-clock time and misses a start in the hour the clocks repeat (01:30 comes twice)
    or skip (a 02:30 class on the spring-forward night).
    """
    if session.series_id is None or session.original_start is None:
        return None
    original = session.original_start
    persisted = Occurrence.objects.filter(event=session.series, original_start=original).first()
    if persisted is not None:
        return persisted
    zone = timezone.get_current_timezone()
    around = session.series.get_occurrences(
        timezone.localtime(add_duration(original, -timedelta(days=1)), zone),
        timezone.localtime(add_duration(original, timedelta(days=1)), zone),
    )
    occurrence = next((o for o in around if utc(o.original_start) == utc(original)), None)
    if occurrence is None:
        raise TrainingError(_("This session no longer matches its series' rule."))
    return occurrence


def _require_session_manager(actor, session: ClassSession) -> None:
    if not selectors.user_can_manage_session(actor, session):
        raise NotAllowed(_("Only training staff or this class's instructor can change it."))


@in_zone_of("session")
def session_move(
    *,
    session: ClassSession,
    start: datetime,
    end: datetime,
    actor,
    token: uuid.UUID | None = None,
) -> ClassSession:
    """Move one session (of a series or not); everyone enrolled or waitlisted is told.

    Machines held for the class follow it only through `bookings.services.class_session_move`,
    which calls this in its own transaction (training may not touch bookings)."""
    with transaction.atomic():
        submission_claim(token)
        locked = ClassSession.objects.locked().select_related("series").get(pk=session.pk)
        _require_session_manager(actor, locked)
        if locked.is_cancelled:
            raise TrainingError(_("This class was cancelled; schedule a new one instead."))
        now = timezone.now()
        if locked.start <= now:
            raise TrainingError(_("This class has already started; it can no longer be moved."))
        if end <= start:
            raise TrainingError(_("A class must end after it starts."))
        if start <= now:
            raise TrainingError(_("A class can only move to a time in the future."))
        occurrence = _occurrence(locked)
        if occurrence is not None:
            occurrence.move(start, end)
        locked.start, locked.end = start, end
        locked.save(update_fields=["start", "end"])
        notifications.session_changed_notify.delay_on_commit(locked.pk)
    return locked


def session_cancel(
    *, session: ClassSession, reason: str, actor, token: uuid.UUID | None = None
) -> ClassSession:
    """Cancel one session (of a series or not) with a reason; its enrollments end and everyone
    enrolled or waitlisted is told."""
    reason = reason.strip()
    if not reason:
        raise TrainingError(_("Say why the class is cancelled; members are told."))
    with transaction.atomic():
        submission_claim(token)
        locked = ClassSession.objects.locked().select_related("series").get(pk=session.pk)
        _require_session_manager(actor, locked)
        if locked.is_cancelled:
            raise TrainingError(_("This class is already cancelled."))
        now = timezone.now()
        if locked.start <= now:
            raise TrainingError(_("This class has already started; it can no longer be cancelled."))
        occurrence = _occurrence(locked)
        if occurrence is not None:
            occurrence.cancel()
        locked.cancelled_at = now
        locked.cancel_reason = reason
        locked.save(update_fields=["cancelled_at", "cancel_reason"])
        affected = list(
            locked.enrollments.filter(
                status__in=[EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED]
            ).values_list("pk", flat=True)
        )
        locked.enrollments.filter(pk__in=affected).update(
            status=EnrollmentStatus.CANCELLED, cancelled_at=now, cancelled_by=actor
        )
        guests.guest_seats_release(
            list(GuestSeat.objects.filter(enrollment_id__in=affected, cancelled_at__isnull=True)),
            actor=actor,
            now=now,
        )
        notifications.session_changed_notify.delay_on_commit(locked.pk, enrollment_ids=affected)
    return locked
