"""Class series in Setup: staff of a location schedule and change recurring classes without the
Django admin. Classes meet on the location's wall clock (also across daylight saving), hold
their machines like any class, and a change keeps the classes members already booked."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from bookings import series as series_services
from bookings.states import BookingState
from core.models import SetupChange
from membership import roles
from staffing.models import RefusedAction, Role
from staffing.services import location_role_grant
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory
from tests.factories.locations import LocationFactory
from tests.factories.membership import UserFactory
from tests.factories.staffing import staff_at
from tests.factories.training import CertificationFactory, EnrollmentFactory
from training import scheduling
from training.models import ClassSeries, ClassSession

LA = ZoneInfo("America/Los_Angeles")
# Monday 1 March 2027, 10:00 in Los Angeles (PST); the clocks spring forward on Sunday 14 March.
NOW = datetime(2027, 3, 1, 18, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def shop(db):
    return LocationFactory(name="Oakland", slug="oakland", time_zone="America/Los_Angeles")


@pytest.fixture
def other(db):
    return LocationFactory(name="Fresno", slug="fresno", time_zone="America/Los_Angeles")


@pytest.fixture
def instructor(db):
    """Teaches at every location (chain-wide)."""
    user = UserFactory(role=roles.INSTRUCTOR, first_name="Ida", last_name="Instructor")
    location_role_grant(user=user, role=Role.INSTRUCTOR, location=None)
    return user


@pytest.fixture
def safety(instructor):
    return CertificationFactory(name="General shop safety", instructors=[instructor])


def _create(safety, instructor, location, actor, **overrides):
    options = {
        "certification": safety,
        "instructor": instructor,
        "location": location,
        "area": None,
        "frequency": scheduling.Frequency.WEEKLY,
        "weekdays": [2, 6],  # Wednesdays and Sundays
        "first_date": date(2027, 3, 3),
        "at": time(18, 0),
        "minutes": 120,
        "until": None,
        "count": 6,
        "capacity": 8,
        "place": "Classroom",
        "fee_minor": None,
        "machines": [],
        "actor": actor,
    }
    options.update(overrides)
    return series_services.class_series_create(**options)


def _sessions(series) -> list[ClassSession]:
    return list(ClassSession.objects.filter(series=series.event).order_by("start"))


def test_a_series_meets_on_its_weekdays_at_local_time_across_the_spring_change(
    safety, instructor, shop
):
    """Six classes, Wednesdays and Sundays at 18:00 in Los Angeles: 18:00 PST before
    14 March 2027 and 18:00 PDT from that Sunday on (an hour earlier in UTC)."""
    staff = staff_at(shop)
    series = _create(safety, instructor, shop, staff)
    sessions = _sessions(series)
    local = [timezone.localtime(s.start, LA) for s in sessions]
    assert [d.date() for d in local] == [
        date(2027, 3, 3),
        date(2027, 3, 7),
        date(2027, 3, 10),
        date(2027, 3, 14),
        date(2027, 3, 17),
        date(2027, 3, 21),
    ]
    assert {d.time() for d in local} == {time(18, 0)}
    assert [s.start.astimezone(UTC).hour for s in sessions] == [2, 2, 2, 1, 1, 1]
    assert {(s.end - s.start).total_seconds() for s in sessions} == {7200}
    assert {s.location_id for s in sessions} == {shop.pk}
    created = SetupChange.objects.get(subject_type="class series")
    assert (created.action, created.actor, created.subject_id) == ("created", staff, series.pk)
    assert created.changes["schedule"] == ["", "Every week on Wed, Sun at 18:00, 120 min"]
    assert created.changes["until"] == ["", "2027-03-21"]
    # The daily job finds nothing more to make: the count ended the series.
    assert series_services.class_series_extend_all() == 0


def test_each_class_of_a_series_holds_its_machines_and_cancels_the_bookings_in_the_way(
    safety, instructor, shop, django_capture_on_commit_callbacks
):
    laser = MachineFactory(name="Laser", slug="laser", location=shop)
    in_the_way = BookingFactory(
        machine=laser,
        start=datetime(2027, 3, 15, 1, 30, tzinfo=UTC),  # 14 March 18:30 PDT
    )
    elsewhere = BookingFactory(machine=laser, start=datetime(2027, 3, 15, 4, 0, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        series = _create(safety, instructor, shop, staff_at(shop), machines=[laser])
    assert list(series.machines.all()) == [laser]
    assert {s.pk for s in laser.class_sessions.all()} == {s.pk for s in _sessions(series)}
    in_the_way.refresh_from_db()
    elsewhere.refresh_from_db()
    assert in_the_way.state == BookingState.CANCELLED
    assert "Class on this machine" in in_the_way.cancel_reason
    assert elsewhere.state == BookingState.CONFIRMED
    assert [m.to for m in mail.outbox] == [[in_the_way.member.user.email]]


def test_the_daily_job_holds_the_series_machines_for_the_classes_it_adds(safety, instructor, shop):
    laser = MachineFactory(name="Laser", slug="laser", location=shop)
    series = _create(safety, instructor, shop, staff_at(shop), count=None, machines=[laser])
    made = len(_sessions(series))
    with time_machine.travel(datetime(2027, 3, 10, 18, 0, tzinfo=UTC), tick=False):
        assert series_services.class_series_extend_all() == 2  # another Wednesday and Sunday
    assert laser.class_sessions.count() == made + 2


def test_a_change_keeps_classes_with_members_and_moves_the_others(
    safety, instructor, shop, django_capture_on_commit_callbacks
):
    """From 19:00 on Wednesdays only: the Sunday 7 March class with a member stays at 18:00 (she
    is emailed), the empty ones follow the new schedule, nothing meets twice on one day."""
    staff = staff_at(shop)
    series = _create(safety, instructor, shop, staff, count=None, until=date(2027, 3, 21))
    booked = _sessions(series)[1]
    seat = EnrollmentFactory(session=booked)
    with django_capture_on_commit_callbacks(execute=True):
        changed = series_services.class_series_change(
            series=series,
            instructor=instructor,
            frequency=scheduling.Frequency.WEEKLY,
            weekdays=[2, 6],
            first_date=date(2027, 3, 1),
            at=time(19, 0),
            minutes=90,
            until=date(2027, 3, 21),
            capacity=5,
            place="Classroom",
            area=None,
            fee_minor=2500,
            machines=[],
            actor=staff,
        )
    assert changed.kept == [booked]
    sessions = _sessions(series)
    local = [(timezone.localtime(s.start, LA), s) for s in sessions]
    assert [(d.date(), d.time()) for d, _ in local] == [
        (date(2027, 3, 3), time(19, 0)),
        (date(2027, 3, 7), time(18, 0)),  # the kept one
        (date(2027, 3, 10), time(19, 0)),
        (date(2027, 3, 14), time(19, 0)),
        (date(2027, 3, 17), time(19, 0)),
        (date(2027, 3, 21), time(19, 0)),
    ]
    kept = sessions[1]
    assert (kept.pk, kept.capacity, kept.fee_minor) == (booked.pk, 8, None)
    assert {(s.capacity, s.fee_minor) for s in sessions if s.pk != kept.pk} == {(5, 2500)}
    assert [m.to for m in mail.outbox] == [[seat.member.user.email]]
    assert "stays as you booked it" in mail.outbox[0].body
    change = SetupChange.objects.filter(subject_type="class series", action="changed").get()
    assert change.changes["schedule"] == [
        "Every week on Wed, Sun at 18:00, 120 min",
        "Every week on Wed, Sun at 19:00, 90 min",
    ]
    # The kept class can still be moved on its own page (its occurrence was kept for it).
    moved = scheduling.session_move(
        session=kept,
        start=datetime(2027, 3, 8, 2, 30, tzinfo=UTC),
        end=datetime(2027, 3, 8, 4, 30, tzinfo=UTC),
        actor=staff,
    )
    assert moved.start == datetime(2027, 3, 8, 2, 30, tzinfo=UTC)
    # Rolling forward again makes nothing new and brings nothing back.
    assert series_services.class_series_extend_all() == 0


def test_staff_schedule_series_only_at_their_locations(safety, instructor, shop, other):
    with pytest.raises(Exception, match="not at a location where you are staff"):
        _create(safety, instructor, other, staff_at(shop))
    assert not ClassSeries.objects.exists()
    assert RefusedAction.objects.filter(what="Schedule a class at Fresno").exists()


# -- pages -----------------------------------------------------------------------------------


def _form(safety, instructor, location, **overrides) -> dict:
    data = {
        "certification": safety.pk,
        "location": location.pk,
        "instructor": instructor.pk,
        "frequency": "weekly",
        "weekdays": ["1"],
        "first_date": "2027-03-02",
        "at": "18:00",
        "minutes": "120",
        "count": "4",
        "capacity": "6",
        "place": "Classroom",
        "form_token": uuid.uuid4(),
    }
    data.update(overrides)
    return data


def test_staff_create_a_series_from_setup_and_see_it_listed(
    client, safety, instructor, shop, django_capture_on_commit_callbacks
):
    client.force_login(staff_at(shop))
    page = client.get(reverse("console:series_new"))
    assert page.status_code == 200
    response = client.post(reverse("console:series_new"), _form(safety, instructor, shop))
    assert response.status_code == 302
    series = ClassSeries.objects.get()
    assert len(_sessions(series)) == 4
    listing = client.get(reverse("console:setup")).content.decode()
    assert reverse("console:series_edit", args=[series.pk]) in listing
    assert "4 classes to come" in listing


def test_a_series_form_with_both_a_last_date_and_a_count_is_refused(
    client, safety, instructor, shop
):
    client.force_login(staff_at(shop))
    response = client.post(
        reverse("console:series_new"), _form(safety, instructor, shop, until="2027-04-01")
    )
    assert response.status_code == 400
    assert "not both" in response.content.decode()
    assert not ClassSeries.objects.exists()


def test_another_locations_staff_and_instructors_are_refused(
    client, safety, instructor, shop, other
):
    series = _create(safety, instructor, other, staff_at(other))
    client.force_login(staff_at(shop))
    assert client.get(reverse("console:series_edit", args=[series.pk])).status_code == 403
    post = client.post(
        reverse("console:series_edit", args=[series.pk]), _form(safety, instructor, other)
    )
    assert post.status_code == 403
    # Their form offers their own location only.
    refused = client.post(reverse("console:series_new"), _form(safety, instructor, other))
    assert refused.status_code == 400
    assert ClassSeries.objects.count() == 1
    listing = client.get(reverse("console:setup")).content.decode()
    assert reverse("console:series_edit", args=[series.pk]) not in listing
    client.force_login(instructor)
    assert client.get(reverse("console:series_new")).status_code == 403


def test_the_head_office_changes_any_locations_series_from_its_page(
    client, safety, instructor, other
):
    series = _create(safety, instructor, other, staff_at(other))
    client.force_login(staff_at())
    page = client.get(reverse("console:series_edit", args=[series.pk]))
    assert page.status_code == 200
    assert 'value="18:00"' in page.content.decode()
    data = _form(safety, instructor, other, at="17:30", weekdays=["2", "6"], count="")
    data["until"] = "2027-03-21"
    data["first_date"] = "2027-03-01"
    response = client.post(reverse("console:series_edit", args=[series.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert {timezone.localtime(s.start, LA).time() for s in _sessions(series)} == {time(17, 30)}
    history = client.get(reverse("console:series_edit", args=[series.pk])).content.decode()
    assert "18:00" in history and "17:30" in history
