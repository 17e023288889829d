"""The staff Today screen: the desk's day read from a hand-built scene, in a number of queries
that does not grow with the data, live through an htmx partial, for staff only."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from bookings.models import Booking
from bookings.states import BookingState
from console import selectors
from equipment.models import MachineState, Severity
from membership import roles
from membership.models import MembershipStatus
from tests.factories.access import GateDeviceFactory, UsageSessionFactory
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory, ProblemReportFactory
from tests.factories.membership import MemberFactory, MembershipFactory, UserFactory
from tests.factories.training import ClassSessionFactory, EnrollmentFactory
from training.models import EnrollmentStatus

ZONE = ZoneInfo("America/Los_Angeles")
# Wednesday 2 December 2026, 10:00 at the space.
AT = datetime(2026, 12, 2, 10, 0, tzinfo=ZONE)


def at(hour: int, minute: int = 0, *, days: int = 0) -> datetime:
    return AT.replace(hour=hour, minute=minute) + timedelta(days=days)


def member(name: str, **membership):
    first, last = name.split()
    person = MemberFactory(user__first_name=first, user__last_name=last)
    MembershipFactory(member=person, **membership)
    return person


@pytest.fixture
def frozen():
    with time_machine.travel(AT, tick=False):
        yield


@pytest.fixture
def scene(db, frozen):
    """Laser (gate online, Ada on it, checked in 9-11, Bo next at 11), lathe (gate offline,
    Cy booked 9:30 and not checked in), saw (no gate, nothing booked), a retired mill."""
    laser = MachineFactory(name="Laser", slug="laser")
    lathe = MachineFactory(name="Lathe", slug="lathe")
    saw = MachineFactory(name="Saw", slug="saw")
    MachineFactory(name="Mill", slug="mill", state=MachineState.RETIRED)
    laser_gate = GateDeviceFactory(machine=laser, device_id="gate-laser", online=True)
    GateDeviceFactory(machine=lathe, device_id="gate-lathe", online=False)
    GateDeviceFactory(
        machine=saw, device_id="gate-saw-spare", enabled=False, disabled_reason="Spare"
    )

    ada = member("Ada Lovelace")
    bo = member("Bo Diddley", current_period_end=AT + timedelta(days=3))
    cy = member(
        "Cy Twombly", status=MembershipStatus.PAST_DUE, current_period_end=AT - timedelta(days=1)
    )
    dee = member("Dee Dee", current_period_end=AT + timedelta(days=30))
    running = BookingFactory(
        machine=laser, member=ada, start=at(9), end=at(11), state=BookingState.CHECKED_IN
    )
    UsageSessionFactory(
        device=laser_gate, member=ada, started_at=at(9, 5), ended_at=None, grant_end=at(11)
    )
    following = BookingFactory(machine=laser, member=bo, start=at(11), end=at(12))
    BookingFactory(machine=laser, member=dee, start=at(14), end=at(15))
    late = BookingFactory(machine=lathe, member=cy, start=at(9, 30), end=at(10, 30))
    BookingFactory(machine=lathe, member=dee, start=at(8), end=at(9), state=BookingState.NO_SHOW)
    BookingFactory(machine=lathe, member=bo, start=at(10), end=at(11), state=BookingState.CANCELLED)
    BookingFactory(machine=lathe, member=cy, start=at(10, days=1), end=at(11, days=1))  # tomorrow

    ProblemReportFactory(machine=lathe, severity=Severity.BROKEN, created_at=at(8))
    ProblemReportFactory(machine=laser, severity=Severity.SAFETY, created_at=at(9))
    ProblemReportFactory(machine=saw, severity=Severity.MINOR, resolved_at=at(9))

    morning = ClassSessionFactory(start=at(13), end=at(15), capacity=2)
    EnrollmentFactory(session=morning, member=dee, created_at=at(8))
    EnrollmentFactory(session=morning, member=ada, created_at=at(8, 30))
    EnrollmentFactory(session=morning, member=bo, status=EnrollmentStatus.WAITLISTED)
    EnrollmentFactory(session=morning, member=cy, status=EnrollmentStatus.CANCELLED)
    later = ClassSessionFactory(start=at(18, days=3), end=at(20, days=3), capacity=1)
    EnrollmentFactory(session=later, member=ada)
    EnrollmentFactory(session=later, member=cy, status=EnrollmentStatus.WAITLISTED)
    ClassSessionFactory(start=at(18, days=20))  # past the waitlist horizon
    ClassSessionFactory(start=at(16), cancelled_at=at(7))  # cancelled
    return {
        "laser": laser,
        "lathe": lathe,
        "saw": saw,
        "running": running,
        "following": following,
        "late": late,
        "ada": ada,
        "bo": bo,
        "cy": cy,
        "morning": morning,
        "later": later,
    }


def test_each_machine_shows_its_gate_who_is_on_it_and_the_bookings_now_and_next(scene):
    day = selectors.today()
    rows = {row.machine.slug: row for row in day.machines}
    assert list(rows) == ["laser", "lathe", "saw"]  # retired machines left out
    laser, lathe, saw = rows["laser"], rows["lathe"], rows["saw"]
    assert (laser.now, laser.next) == (scene["running"], scene["following"])
    assert laser.session.member == scene["ada"] and laser.session.grant_end == at(11)
    assert laser.now.desk_state == "checked_in"
    assert laser.next.desk_state == "upcoming"
    assert (lathe.now, lathe.next, lathe.now.desk_state) == (scene["late"], None, "late")
    assert lathe.session is None
    assert (saw.has_gate, saw.now, saw.next) == (False, None, None)
    assert [row.machine.slug for row in day.in_use] == ["laser"]
    assert [device.device_id for device in day.gates_offline] == ["gate-lathe"]


@pytest.mark.parametrize(
    ("start", "state", "expected"),
    [
        (at(10, 11), BookingState.CONFIRMED, "upcoming"),
        (at(10, 10), BookingState.CONFIRMED, "due"),  # check-in opens 10 minutes before
        (at(10), BookingState.CONFIRMED, "late"),
        (at(9), BookingState.CHECKED_IN, "checked_in"),
        (at(9), BookingState.NO_SHOW, "no_show"),
    ],
)
def test_check_in_state(start, state, expected):
    booking = Booking(start=start, end=start + timedelta(hours=1), state=state)
    assert selectors.check_in_state(booking, at=AT) == expected


def test_members_booked_today_who_are_past_due_or_expiring_are_flagged(scene):
    """Cy is past due (machines stop at the end of grace), Bo's period ends in three days;
    Dee's in 30 days is fine, and Ada's default 20 days too."""
    flags = selectors.today().members
    assert [(f.member, f.status) for f in flags] == [
        (scene["cy"], "past_due"),
        (scene["bo"], "expiring"),
    ]
    assert flags[0].grace_end == AT - timedelta(days=1) + timedelta(days=3)
    assert flags[0].first_booking == scene["late"]


def test_open_reports_are_counted_by_severity_worst_first(scene):
    day = selectors.today()
    assert [r.severity for r in day.reports] == ["safety", "broken"]
    assert day.report_counts == {"safety": 1, "broken": 1, "minor": 0, "total": 2}


def test_todays_classes_have_their_rosters_and_waitlists_reach_two_weeks(scene):
    day = selectors.today()
    assert [c.session for c in day.classes] == [scene["morning"]]
    morning = day.classes[0]
    assert [e.member for e in morning.roster] == [
        MemberFactory._meta.model.objects.get(user__first_name="Dee"),
        scene["ada"],
    ]
    assert [e.member for e in morning.waitlist] == [scene["bo"]]
    assert [(c.session, [e.member for e in c.waitlist]) for c in day.waitlists] == [
        (scene["morning"], [scene["bo"]]),
        (scene["later"], [scene["cy"]]),
    ]


def test_a_location_sees_only_its_machines(scene):
    """The selector takes the machines to read: a location's staff get theirs."""
    from equipment.models import Machine

    day = selectors.today(machines=Machine.objects.filter(slug="lathe"))
    assert [row.machine.slug for row in day.machines] == ["lathe"]
    assert [r.machine.slug for r in day.reports] == ["lathe"]
    assert day.in_use == []
    assert [f.member for f in day.members] == [scene["cy"]]


# -- the page ------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(role=roles.STAFF))
    return client


def test_the_page_reads_the_day(scene, staff_client):
    page = staff_client.get(reverse("console:today")).content.decode()
    assert "Wednesday 2 December" in page
    assert 'hx-trigger="every 10s' in page
    assert "<strong>Ada Lovelace</strong> until 11:00" in page
    assert "not checked in" in page
    assert "gate-lathe" in page
    assert '<span class="pill past_due">Past due</span>' in page
    assert "1 unsafe · 1 broken · 0 minor" in page
    assert "2 of 2 seats · 1 waiting" in page


def test_htmx_gets_the_partial_alone(scene, staff_client):
    response = staff_client.get(reverse("console:today"), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body and 'id="machines-h"' in body


def scale(n: int) -> None:
    """n more of everything the screen reads."""
    for i in range(n):
        machine = MachineFactory()
        gate = GateDeviceFactory(machine=machine, online=bool(i % 2))
        person = member(f"Extra Person{i}", status=MembershipStatus.PAST_DUE)
        BookingFactory(machine=machine, member=person, start=at(9), end=at(11))
        BookingFactory(machine=machine, member=person, start=at(12), end=at(13))
        UsageSessionFactory(device=gate, member=person, started_at=at(9), ended_at=None)
        ProblemReportFactory(machine=machine, severity=Severity.BROKEN)
        session = ClassSessionFactory(start=at(13, days=i % 3))
        EnrollmentFactory(session=session, member=person)
        EnrollmentFactory(session=session, status=EnrollmentStatus.WAITLISTED)


def test_the_query_count_does_not_grow_with_the_data(
    scene, staff_client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("console:today")
    staff_client.get(url, headers={"HX-Request": "true"})  # session and permissions warmed
    with CaptureQueriesContext(connection) as small:
        staff_client.get(url, headers={"HX-Request": "true"})
    scale(12)
    with django_assert_max_num_queries(len(small)):
        staff_client.get(url, headers={"HX-Request": "true"})
    with django_assert_max_num_queries(18):
        staff_client.get(url)


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INSTRUCTOR])
def test_members_and_instructors_may_not_see_it(client, db, role):
    client.force_login(UserFactory(role=role))
    assert client.get(reverse("console:today")).status_code == 403
    assert client.get(reverse("console:today"), headers={"HX-Request": "true"}).status_code == 403
