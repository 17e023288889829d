"""Member pages across the chain: a switcher, lists by location, each location's page. A space
with one location sees its pages as before: no switcher, no location names, no extra steps."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from locations import hours
from locations.selectors import location_choice
from staffing.models import Role
from staffing.services import location_role_grant
from tests.factories.equipment import MachineFactory
from tests.factories.locations import AreaFactory, LocationFactory
from tests.factories.membership import ready_member
from tests.factories.training import ClassSessionFactory


def page(client, name, *args, **query) -> str:
    response = client.get(reverse(name, args=args), query)
    assert response.status_code == 200
    return response.content.decode()


# --- One location: as today --------------------------------------------------------------------


def test_a_single_location_space_has_no_switcher_and_no_location_names(client, db):
    machine = MachineFactory(name="Laser A", location=LocationFactory(name="Main Street shop"))
    machine.area = AreaFactory(location=machine.location, name="Laser room")
    machine.save()
    ClassSessionFactory(location=machine.location)
    client.force_login(ready_member().user)
    for name in ("equipment:machine_list", "training:class_list", "dashboard"):
        html = page(client, name)
        assert "location-switcher" not in html
        assert reverse("locations:location_list") not in html
        assert machine.location.name not in html
    listing = page(client, "equipment:machine_list")
    assert '<span class="muted">Laser room</span>' in listing  # the area, as the text was


def test_a_single_location_ignores_a_location_in_the_address(client, db):
    MachineFactory(name="Laser A")
    client.force_login(ready_member().user)
    assert "Laser A" in page(client, "equipment:machine_list", location="elsewhere")


# --- A chain ------------------------------------------------------------------------------------


@pytest.fixture
def chain(menlo, raleigh):
    return {
        "menlo": MachineFactory(name="Menlo laser", location=menlo),
        "raleigh": MachineFactory(name="Raleigh lathe", location=raleigh),
    }


@pytest.fixture
def raleigh_member(raleigh):
    member = ready_member()
    member.home_location = raleigh
    member.save()
    return member


def test_the_switcher_lists_the_home_location_first_and_starts_there(client, chain, raleigh_member):
    client.force_login(raleigh_member.user)
    html = page(client, "equipment:machine_list")
    assert "location-switcher" in html
    assert html.index("Raleigh") < html.index("Menlo Park")
    assert "(home)" in html
    assert "Raleigh lathe" in html and "Menlo laser" not in html


def test_the_switcher_filters_and_is_remembered(client, chain, raleigh_member):
    client.force_login(raleigh_member.user)
    html = page(client, "equipment:machine_list", location="menlo-park")
    assert "Menlo laser" in html and "Raleigh lathe" not in html
    assert "Menlo laser" in page(client, "equipment:machine_list")  # remembered
    both = page(client, "equipment:machine_list", location="all")
    # All locations: the home location's machines first, each named with its location.
    assert both.index("Raleigh lathe") < both.index("Menlo laser")
    assert '<span class="muted">Raleigh</span>' in both
    assert '<span class="muted">Menlo Park</span>' in both


def test_classes_are_filtered_by_location(client, chain, menlo, raleigh, raleigh_member):
    start = timezone.now() + timedelta(days=2)
    at_menlo = f'data-session="{ClassSessionFactory(location=menlo, start=start).pk}"'
    at_raleigh = f'data-session="{ClassSessionFactory(location=raleigh, start=start).pk}"'
    client.force_login(raleigh_member.user)
    day = timezone.localdate(start).isoformat()
    html = page(client, "training:class_list", date=day)
    assert at_raleigh in html and at_menlo not in html
    html = page(client, "training:class_list", date=day, location="all")
    assert at_raleigh in html and at_menlo in html


def test_a_location_page_shows_hours_areas_machines_and_classes(client, chain, raleigh):
    AreaFactory(location=raleigh, name="Metal shop")
    hours.location_hours_add(
        location=raleigh,
        weekdays=[0, 1, 2, 3, 4],
        opens=time(10),
        closes=time(22),
        starting=date(2027, 1, 4),
    )
    hours.location_hours_add(
        location=raleigh, weekdays=[5], opens=time(10), closes=time(0), starting=date(2027, 1, 4)
    )
    ClassSessionFactory(location=raleigh, certification__name="Lathe basics")
    client.force_login(ready_member().user)
    html = page(client, "locations:location_detail", "raleigh")
    assert "Monday</th><td>10:00\u201322:00" in html
    assert "Saturday</th><td>10:00\u201324:00" in html
    assert 'Sunday</th><td><span class="muted">Closed' in html
    assert "Metal shop" in html and "Raleigh lathe" in html and "Menlo laser" not in html
    assert "Lathe basics" in html and "America/New_York" in html


def test_the_location_list_names_every_open_location(client, chain, raleigh_member, menlo):
    client.force_login(raleigh_member.user)
    html = page(client, "locations:location_list")
    assert "Your home location" in html and "Menlo Park" in html
    # Reached from the switcher of the machine and class lists.
    assert reverse("locations:location_list") in page(client, "equipment:machine_list")


def test_location_hours_are_refused_when_they_cannot_work(raleigh):
    from locations.errors import LocationError

    with pytest.raises(LocationError, match="weekday"):
        hours.location_hours_add(
            location=raleigh, weekdays=[], opens=time(9), closes=time(17), starting=date.today()
        )
    with pytest.raises(LocationError, match="after opening"):
        hours.location_hours_add(
            location=raleigh, weekdays=[0], opens=time(17), closes=time(9), starting=date.today()
        )


def test_the_choice_falls_back_home_then_all(menlo, raleigh):
    assert location_choice(asked=None, remembered=None, home=raleigh).current == raleigh
    assert location_choice(asked="all", remembered="raleigh", home=raleigh).current is None
    assert location_choice(asked="nope", remembered="menlo-park", home=raleigh).current == menlo
    assert location_choice(asked=None, remembered=None, home=None).current is None
    choice = location_choice(asked=None, remembered=None, home=raleigh)
    assert choice.locations == [raleigh, menlo] and choice.shown


# --- Staff forms ask where only in a chain -----------------------------------------------------


def test_the_class_form_asks_for_a_location_only_in_a_chain(client, db):
    from membership import roles
    from tests.factories.membership import UserFactory
    from training.forms import SessionForm

    assert "location" not in SessionForm().fields
    client.force_login(UserFactory(role=roles.STAFF))
    html = page(client, "training:demand_queue")
    assert 'name="one-location"' not in html


def test_a_class_typed_for_raleigh_is_on_raleighs_clock(client, menlo, raleigh):
    import uuid
    from zoneinfo import ZoneInfo

    from membership import roles
    from tests.factories.membership import UserFactory
    from tests.factories.training import CertificationFactory
    from training.models import ClassSession

    instructor = UserFactory(role=roles.INSTRUCTOR)
    safety = CertificationFactory(name="Safety", instructors=[instructor])
    room = AreaFactory(location=raleigh, name="Classroom")
    staff = UserFactory(role=roles.STAFF)  # at Raleigh, and so is the instructor
    for user, role in ((staff, Role.STAFF), (instructor, Role.INSTRUCTOR)):
        location_role_grant(user=user, role=role, location=raleigh)
    client.force_login(staff)
    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    data = {
        "one-certification": safety.pk,
        "one-instructor": instructor.pk,
        "one-start": f"{day}T18:00",
        "one-end": f"{day}T20:00",
        "one-capacity": 4,
        "one-location": raleigh.pk,
        "one-area": room.pk,
        "one-form_token": str(uuid.uuid4()),
    }
    response = client.post(reverse("training:session_create"), data)
    assert response.status_code == 302
    session = ClassSession.objects.get()
    local = timezone.localtime(session.start, ZoneInfo("America/New_York"))
    assert (local.hour, session.location, session.area) == (18, raleigh, room)
    wrong_room = {**data, "one-area": AreaFactory(location=menlo).pk}
    wrong_room["one-form_token"] = str(uuid.uuid4())
    assert client.post(reverse("training:session_create"), wrong_room).status_code == 400


def test_the_machine_add_form_asks_for_a_location_only_in_a_chain(menlo):
    from equipment.forms import MachineAddForm

    assert "location" not in MachineAddForm().fields
    LocationFactory(name="Second")
    assert "location" in MachineAddForm().fields
