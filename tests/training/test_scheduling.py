"""Class series on django-scheduler: sessions materialised ahead, single sessions moved or cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from schedule.models import Occurrence

from membership import roles
from tests.factories.membership import UserFactory
from tests.factories.training import ClassSessionFactory, EnrollmentFactory
from training import scheduling, selectors
from training.errors import NotAllowed, TrainingError
from training.models import ClassSession, EnrollmentStatus

# A Monday in November; the space's zone is America/Los_Angeles (PST, UTC-8).
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
LOCAL = timezone.get_fixed_timezone(-8 * 60)


@pytest.fixture
def staff(db):
    return UserFactory(role=roles.STAFF)


def _weekly(safety, instructor, staff, **overrides):
    """A weekly safety class on Tuesdays 18:00-20:00 local, first on 24 November."""
    options = {
        "certification": safety,
        "instructor": instructor,
        "start": datetime(2026, 11, 24, 18, 0, tzinfo=LOCAL),
        "end": datetime(2026, 11, 24, 20, 0, tzinfo=LOCAL),
        "frequency": scheduling.Frequency.WEEKLY,
        "until": None,
        "capacity": 8,
        "place": "Classroom",
        "actor": staff,
    }
    options.update(overrides)
    return scheduling.series_create(**options)


@time_machine.travel(NOW, tick=False)
def test_a_weekly_series_has_twelve_weeks_of_sessions_on_the_classes_calendar(
    safety, instructor, staff
):
    series = _weekly(safety, instructor, staff)
    sessions = list(ClassSession.objects.filter(series=series.event))
    assert len(sessions) == 12
    assert series.event.calendar.slug == "classes"
    assert series.event.rule.frequency == "WEEKLY"
    assert {(s.capacity, s.place, s.instructor, s.certification) for s in sessions} == {
        (8, "Classroom", instructor, safety)
    }
    assert all(s.original_start == s.start for s in sessions)


@time_machine.travel(NOW, tick=False)
def test_series_sessions_keep_their_wall_clock_time_across_daylight_saving(
    safety, instructor, staff
):
    """18:00 in Los Angeles is 02:00 UTC in winter and 01:00 UTC in summer."""
    series = _weekly(safety, instructor, staff)
    with time_machine.travel(datetime(2027, 3, 1, tzinfo=UTC), tick=False):
        scheduling.series_extend_all()
    local_times = {
        timezone.localtime(s.start).time() for s in ClassSession.objects.filter(series=series.event)
    }
    assert local_times == {datetime(2026, 1, 1, 18, 0).time()}
    utc_hours = {
        s.start.astimezone(UTC).hour for s in ClassSession.objects.filter(series=series.event)
    }
    assert utc_hours == {1, 2}


@time_machine.travel(NOW, tick=False)
def test_extending_is_idempotent_and_rolls_the_horizon(safety, instructor, staff):
    series = _weekly(safety, instructor, staff)
    assert scheduling.series_extend_all() == 0
    with time_machine.travel(NOW + timedelta(weeks=2), tick=False):
        assert scheduling.series_extend_all() == 2
    assert ClassSession.objects.filter(series=series.event).count() == 14


@time_machine.travel(NOW, tick=False)
def test_a_series_ends_on_its_last_date(safety, instructor, staff):
    series = _weekly(safety, instructor, staff, until=datetime(2026, 12, 8).date())
    starts = [
        timezone.localtime(s.start).date() for s in ClassSession.objects.filter(series=series.event)
    ]
    assert [d.isoformat() for d in starts] == ["2026-11-24", "2026-12-01", "2026-12-08"]


@time_machine.travel(NOW, tick=False)
def test_moving_one_session_moves_its_occurrence_and_tells_the_members(
    safety, instructor, staff, django_capture_on_commit_callbacks
):
    series = _weekly(safety, instructor, staff)
    second = ClassSession.objects.filter(series=series.event)[1]
    original = second.start
    EnrollmentFactory(session=second)
    new_start = original + timedelta(days=1, hours=-1)
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.session_move(
            session=second, start=new_start, end=new_start + timedelta(hours=2), actor=staff
        )

    second.refresh_from_db()
    assert (second.start, second.original_start) == (new_start, original)
    occurrence = Occurrence.objects.get(event=series.event)
    assert occurrence.moved and (occurrence.start, occurrence.original_start) == (
        new_start,
        original,
    )
    # django-scheduler now reports the moved time, and re-materialising makes no duplicate.
    window = series.event.get_occurrences(
        original - timedelta(days=1), new_start + timedelta(days=1)
    )
    assert [o.start for o in window] == [new_start]
    assert scheduling.series_extend_all() == 0
    assert [m.subject for m in mail.outbox] == [
        "[Toolgate Makerspace] New time: General shop safety class"
    ]


@time_machine.travel(NOW, tick=False)
def test_cancelling_one_session_cancels_its_occurrence_and_its_enrollments(
    safety, instructor, staff, django_capture_on_commit_callbacks
):
    series = _weekly(safety, instructor, staff)
    third = ClassSession.objects.filter(series=series.event)[2]
    seat = EnrollmentFactory(session=third)
    waiting = EnrollmentFactory(session=third, status=EnrollmentStatus.WAITLISTED)
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.session_cancel(session=third, reason="Instructor ill", actor=instructor)

    third.refresh_from_db()
    assert third.is_cancelled and third.cancel_reason == "Instructor ill"
    assert Occurrence.objects.get(event=series.event, original_start=third.start).cancelled
    assert set(third.enrollments.values_list("status", flat=True)) == {EnrollmentStatus.CANCELLED}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [seat.member.user.email, waiting.member.user.email]
    )
    assert "is cancelled: Instructor ill" in mail.outbox[0].body
    # Still listed (as cancelled) but no longer upcoming, and never re-created.
    assert third not in selectors.sessions_upcoming(at=NOW)
    assert scheduling.series_extend_all() == 0


@time_machine.travel(NOW, tick=False)
def test_a_single_session_moves_without_a_series(safety, instructor, staff):
    session = ClassSessionFactory(certification=safety, instructor=instructor)
    new_start = session.start + timedelta(days=2)
    scheduling.session_move(
        session=session, start=new_start, end=new_start + timedelta(hours=1), actor=instructor
    )
    session.refresh_from_db()
    assert session.start == new_start
    assert not Occurrence.objects.exists()


@pytest.mark.parametrize(
    ("situation", "refusal"),
    [
        ("past_target", "A class can only move to a time in the future."),
        ("backwards", "A class must end after it starts."),
        ("started", "This class has already started; it can no longer be moved."),
        ("cancelled", "This class was cancelled; schedule a new one instead."),
        ("stranger", "Only training staff or this class's instructor can change it."),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_move_refusals(safety, instructor, staff, situation, refusal):
    session = ClassSessionFactory(certification=safety, instructor=instructor)
    start, end, actor = session.start + timedelta(days=1), session.end + timedelta(days=1), staff
    if situation == "past_target":
        start, end = NOW - timedelta(days=1), NOW - timedelta(hours=22)
    if situation == "backwards":
        end = start - timedelta(hours=1)
    if situation == "started":
        session.start, session.end = NOW - timedelta(minutes=1), NOW + timedelta(hours=1)
        session.save()
    if situation == "cancelled":
        session.cancelled_at = NOW
        session.save()
    if situation == "stranger":
        actor = UserFactory(role=roles.INSTRUCTOR)
    before = ClassSession.objects.values("start", "end").get(pk=session.pk)
    with pytest.raises(TrainingError) as refused:
        scheduling.session_move(session=session, start=start, end=end, actor=actor)
    assert refused.value.message == refusal
    assert ClassSession.objects.values("start", "end").get(pk=session.pk) == before


@pytest.mark.parametrize(
    ("overrides", "refusal"),
    [
        ({"capacity": 0}, "A class needs at least one seat."),
        ({"start": NOW - timedelta(days=1)}, "A class must start in the future."),
        ({"end": NOW}, "A class must end after it starts."),
        ({"instructor": "other"}, "is not an instructor of General shop safety."),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_session_create_refusals(safety, instructor, staff, overrides, refusal):
    options = {
        "certification": safety,
        "instructor": instructor,
        "start": NOW + timedelta(days=1),
        "end": NOW + timedelta(days=1, hours=2),
        "capacity": 4,
        "actor": staff,
    }
    options.update(overrides)
    if options["instructor"] == "other":
        options["instructor"] = UserFactory(role=roles.INSTRUCTOR)
    with pytest.raises(TrainingError) as refused:
        scheduling.session_create(**options)
    assert refusal in refused.value.message
    assert not ClassSession.objects.exists()


def test_only_training_staff_schedule_classes(safety, instructor):
    with pytest.raises(NotAllowed):
        scheduling.session_create(
            certification=safety,
            instructor=instructor,
            start=timezone.now() + timedelta(days=1),
            end=timezone.now() + timedelta(days=1, hours=1),
            capacity=4,
            actor=instructor,
        )
