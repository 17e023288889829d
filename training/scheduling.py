"""Scheduling classes: single sessions, recurring series through django-scheduler, moves, cancels.

A series is a django-scheduler `Event` with a `Rule` on the "Classes" calendar. Its occurrences
are materialised into `ClassSession` rows up to a horizon (so enrollments point at something
concrete); moving or cancelling one session also persists the matching `Occurrence` as moved or
cancelled, so the calendar and the sessions never disagree.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from schedule.models import Calendar, Event, Occurrence, Rule

from core.submissions import submission_claim
from core.time import add_duration, utc
from locations import zones
from locations.models import Area, Location, default_location
from locations.zones import in_zone_of
from training import guests, notifications, selectors
from training.errors import NotAllowed, TrainingError
from training.models import (
    Certification,
    ClassSeries,
    ClassSession,
    EnrollmentStatus,
    GuestSeat,
)

CLASSES_CALENDAR = "classes"
# How far ahead a series has concrete sessions members can enroll in; `extend_class_series`
# (run daily) keeps the horizon rolling.
HORIZON = timedelta(weeks=12)


class Frequency:
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    CHOICES = [(WEEKLY, "Every week"), (FORTNIGHTLY, "Every two weeks"), (MONTHLY, "Every month")]
    # name -> (django-scheduler frequency, rrule params)
    RULES = {
        WEEKLY: ("WEEKLY", ""),
        FORTNIGHTLY: ("WEEKLY", "interval:2"),
        MONTHLY: ("MONTHLY", ""),
    }


def classes_calendar() -> Calendar:
    calendar, _ = Calendar.objects.get_or_create(
        slug=CLASSES_CALENDAR, defaults={"name": "Classes"}
    )
    return calendar


def _rule(frequency: str) -> Rule:
    if frequency not in Frequency.RULES:
        raise TrainingError(f"{frequency!r} is not a repeat we offer.")
    rrule_frequency, params = Frequency.RULES[frequency]
    label = dict(Frequency.CHOICES)[frequency]
    rule = Rule.objects.filter(name=label, frequency=rrule_frequency, params=params).first()
    return rule or Rule.objects.create(
        name=label,
        description=f"Class series: {label.lower()}",
        frequency=rrule_frequency,
        params=params,
    )


def _where(location: Location | None, area: Area | None) -> Location:
    """The class's location (None: the default one); its area must be a room of it."""
    location = location or default_location()
    if location.archived:
        raise TrainingError(f"{location} is archived: classes are scheduled at open locations.")
    if area is not None and area.location_id != location.pk:
        raise TrainingError(f"{area} is not an area of {location}.")
    return location


def _require_manager(actor) -> None:
    if not actor.has_perm("training.manage_training"):
        raise NotAllowed("Only training staff can schedule classes.")


def _check_slot(*, certification: Certification, instructor, start, end, capacity) -> None:
    if end <= start:
        raise TrainingError("A class must end after it starts.")
    if start <= timezone.now():
        raise TrainingError("A class must start in the future.")
    if capacity < 1:
        raise TrainingError("A class needs at least one seat.")
    if not certification.instructors.filter(pk=instructor.pk).exists():
        raise TrainingError(f"{instructor} is not an instructor of {certification}.")


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
    with transaction.atomic():
        submission_claim(token)
        _require_manager(actor)
        _check_slot(
            certification=certification,
            instructor=instructor,
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
    actor,
    token: uuid.UUID | None = None,
) -> ClassSeries:
    """Schedule a recurring class from its first meeting; sessions appear up to the horizon.

    The rule repeats on the wall clock of the class's location: a 6 pm class stays at 6 pm there
    across daylight-saving changes, wherever the person scheduling it sits.
    """
    location = _where(location, area)
    with transaction.atomic(), zones.at(location):
        submission_claim(token)
        _require_manager(actor)
        _check_slot(
            certification=certification,
            instructor=instructor,
            start=start,
            end=end,
            capacity=capacity,
        )
        if until is not None and until < timezone.localdate(start):
            raise TrainingError("The series must end on or after its first class.")
        event = Event.objects.create(
            title=f"{certification} class",
            description=place.strip(),
            start=start,
            end=end,
            rule=_rule(frequency),
            # Inclusive: a class on the last day still happens.
            end_recurring_period=timezone.make_aware(datetime.combine(until, time.max))
            if until
            else None,
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
            created_by=actor,
        )
        series_materialise(series=series, until=timezone.now() + HORIZON)
    return series


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
            },
        )
        if made:
            created.append(session)
    return created


def series_extend_all(*, horizon: timedelta = HORIZON) -> int:
    """Roll every series' sessions forward to now + horizon; returns how many were created."""
    until = timezone.now() + horizon
    created = 0
    for series in ClassSeries.objects.select_related("event__rule", "certification", "instructor"):
        with transaction.atomic():
            created += len(series_materialise(series=series, until=until))
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
        raise TrainingError("This session no longer matches its series' rule.")
    return occurrence


def _require_session_manager(actor, session: ClassSession) -> None:
    if not selectors.user_can_manage_session(actor, session):
        raise NotAllowed("Only training staff or this class's instructor can change it.")


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
            raise TrainingError("This class was cancelled; schedule a new one instead.")
        now = timezone.now()
        if locked.start <= now:
            raise TrainingError("This class has already started; it can no longer be moved.")
        if end <= start:
            raise TrainingError("A class must end after it starts.")
        if start <= now:
            raise TrainingError("A class can only move to a time in the future.")
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
        raise TrainingError("Say why the class is cancelled; members are told.")
    with transaction.atomic():
        submission_claim(token)
        locked = ClassSession.objects.locked().select_related("series").get(pk=session.pk)
        _require_session_manager(actor, locked)
        if locked.is_cancelled:
            raise TrainingError("This class is already cancelled.")
        now = timezone.now()
        if locked.start <= now:
            raise TrainingError("This class has already started; it can no longer be cancelled.")
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
