"""Staff set machines up on the site: add, edit details and rules, opening hours (htmx)."""

from __future__ import annotations

import uuid
from datetime import time

import pytest
from django.test import Client
from django.urls import reverse

from equipment import services
from equipment.models import Machine, MachineEvent
from equipment.selectors import opening_intervals
from equipment.services import SETTINGS_FIELDS
from tests.factories.equipment import MachineFactory, certification
from tests.factories.locations import AreaFactory
from tests.factories.membership import UserFactory


@pytest.fixture
def machine(db):
    return MachineFactory(name="Laser cutter A", slug="laser-a", required_certification=None)


def machine_data(machine: Machine, **changes) -> dict:
    """The edit form as the page sends it, with `changes`."""
    data = {
        field: getattr(machine, field)
        for field in SETTINGS_FIELDS
        if field not in ("photo", "required_certification", "area")
    }
    data["area"] = machine.area_id or ""
    data.update(required_certification="", maintainers="", form_token=str(uuid.uuid4()))
    data.update(changes)
    return data


def edit_url(machine: Machine) -> str:
    return reverse("equipment:machine_edit", args=[machine.slug])


@pytest.mark.parametrize(
    ("method", "url_name", "args"),
    [
        ("get", "equipment:machine_add", []),
        ("post", "equipment:machine_add", []),
        ("get", "equipment:machine_edit", ["laser-a"]),
        ("post", "equipment:machine_edit", ["laser-a"]),
        ("post", "equipment:opening_hours_add", ["laser-a"]),
        ("post", "equipment:opening_hours_remove", ["laser-a"]),
    ],
)
def test_members_cannot_set_machines_up(member_client, machine, method, url_name, args):
    """Only staff who manage machines: a member gets 403 and nothing changes."""
    data = {
        **machine_data(machine, name="Hijacked", slug="hijacked"),
        "weekdays": [0],
        "opens": "09:00",
        "closes": "17:00",
    }
    response = getattr(member_client, method)(reverse(url_name, args=args), data)
    assert response.status_code == 403
    assert list(Machine.objects.values_list("name", flat=True)) == ["Laser cutter A"]
    assert not MachineEvent.objects.exists()


def test_only_staff_see_the_edit_and_add_links(member, staff_client, machine):
    detail = reverse("equipment:machine_detail", args=["laser-a"])
    member_client = Client()
    member_client.force_login(member.user)
    assert edit_url(machine) not in member_client.get(detail).content.decode()
    listing = member_client.get(reverse("equipment:machine_list")).content.decode()
    assert reverse("equipment:machine_add") not in listing
    assert edit_url(machine) in staff_client.get(detail).content.decode()
    listing = staff_client.get(reverse("equipment:machine_list")).content.decode()
    assert reverse("equipment:machine_add") in listing


def test_staff_edit_details_rules_certification_and_maintainers(staff_client, machine):
    maintainer = UserFactory(email="Mo.Maintainer@example.org")
    laser = certification("Laser cutter")
    response = staff_client.post(
        edit_url(machine),
        machine_data(
            machine,
            area=AreaFactory(location=machine.location, name="Laser room").pk,
            required_certification=laser.pk,
            maintainers="mo.maintainer@example.org",
            slot_minutes=15,
            min_minutes=15,
            max_minutes=90,
            buffer_minutes=10,
        ),
        follow=True,
    )
    assert "Laser cutter A saved." in response.content.decode()
    machine.refresh_from_db()
    assert (machine.area.name, machine.required_certification, machine.slot_minutes) == (
        "Laser room",
        laser,
        15,
    )
    assert (machine.min_minutes, machine.max_minutes, machine.buffer_minutes) == (15, 90, 10)
    assert list(machine.maintainers.all()) == [maintainer]
    # The page shows the maintainers back as typed addresses.
    assert "Mo.Maintainer@example.org" in staff_client.get(edit_url(machine)).content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"min_minutes": 240, "max_minutes": 60}, "is shorter than the shortest (240 min)"),
        ({"min_minutes": 45}, "whole number of 30-minute slots"),
        ({"slot_minutes": 2}, "greater than or equal to 5"),
        ({"maintainers": "nobody@example.org"}, "Nobody has the email address nobody@example.org"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_invalid_edits_say_why_and_save_nothing(staff_client, machine, changes, message):
    response = staff_client.post(edit_url(machine), machine_data(machine, **changes))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "Nothing was saved" in page
    assert "<h1>Edit Laser cutter A</h1>" in page
    fresh = Machine.objects.get(pk=machine.pk)
    assert (fresh.min_minutes, fresh.max_minutes, fresh.slot_minutes, fresh.name) == (
        30,
        240,
        30,
        "Laser cutter A",
    )


def test_a_double_submitted_edit_saves_once(staff_client, machine):
    """The second send of the same page changes nothing, even with other values in it."""
    token = str(uuid.uuid4())
    shop = AreaFactory(location=machine.location, name="Shop")
    basement = AreaFactory(location=machine.location, name="Basement")
    staff_client.post(edit_url(machine), machine_data(machine, area=shop.pk, form_token=token))
    response = staff_client.post(
        edit_url(machine), machine_data(machine, area=basement.pk, form_token=token)
    )
    assert "already submitted" in response.content.decode()
    machine.refresh_from_db()
    assert machine.area == shop


def test_staff_add_a_machine_and_go_on_to_its_opening_hours(staff_client, db):
    form = machine_data(MachineFactory.build(name="CNC router"), slug="")
    token = form["form_token"]
    response = staff_client.post(reverse("equipment:machine_add"), form)
    assert response.status_code == 302
    assert response["Location"] == reverse("equipment:machine_edit", args=["cnc-router"]) + "#hours"
    machine = Machine.objects.get()
    assert (machine.name, machine.slug, machine.calendar.slug) == (
        "CNC router",
        "cnc-router",
        "machine-cnc-router",
    )
    again = staff_client.post(reverse("equipment:machine_add"), {**form, "form_token": token})
    assert again.status_code == 400
    assert Machine.objects.count() == 1


def test_an_address_the_site_uses_is_refused(staff_client, db):
    response = staff_client.post(
        reverse("equipment:machine_add"), machine_data(MachineFactory.build(), slug="new")
    )
    assert response.status_code == 400 and "used by a page of the site" in response.content.decode()
    assert not Machine.objects.exists()


DASH = "\N{EN DASH}"
PILL = f'<span class="pill">10:00{DASH}13:00</span>'


def hours(client, machine, url_name, **data):
    return client.post(
        reverse(url_name, args=[machine.slug]),
        {"form_token": str(uuid.uuid4()), **data},
        headers={"HX-Request": "true"},
    )


def test_staff_add_and_remove_opening_hours_in_place(staff_client, machine):
    """htmx swaps the panel: the week shows the new hours, a refusal says why."""
    panel = hours(
        staff_client,
        machine,
        "equipment:opening_hours_add",
        weekdays=[0, 1, 2, 3, 4],
        opens="10:00",
        closes="13:00",
    ).content.decode()
    assert panel.startswith('<div id="opening-hours">')
    assert "Opening hours added." in panel and panel.count(PILL) == 5
    hours(
        staff_client,
        machine,
        "equipment:opening_hours_add",
        weekdays=[0],
        opens="14:00",
        closes="00:00",
    )
    refused = hours(
        staff_client,
        machine,
        "equipment:opening_hours_add",
        weekdays=[0],
        opens="12:00",
        closes="15:00",
    ).content.decode()
    assert "Monday is already open 10:00 to 13:00" in refused
    monday_morning = next(i for i in opening_intervals(machine) if i.opens == time(10))
    panel = hours(
        staff_client,
        machine,
        "equipment:opening_hours_remove",
        opening_id=monday_morning.opening_id,
        weekday=0,
    ).content.decode()
    assert "Opening hours removed." in panel and panel.count(PILL) == 4
    assert [(i.weekday, i.opens, i.closes_label) for i in opening_intervals(machine)][:2] == [
        (0, time(14), "24:00"),
        (1, time(10), "13:00"),
    ]


def test_opening_hours_without_javascript_go_back_to_the_edit_page(staff_client, machine):
    response = staff_client.post(
        reverse("equipment:opening_hours_add", args=[machine.slug]),
        {"form_token": str(uuid.uuid4()), "weekdays": [5], "opens": "10:00", "closes": "18:00"},
        follow=True,
    )
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == edit_url(machine) + "#hours"
    assert "Opening hours added." in page and f"10:00{DASH}18:00" in page
    # Members see the hours on the machine page.
    services.opening_hours_add(machine=machine, weekdays=[6], opens=time(12), closes=time(16))
    detail = staff_client.get(reverse("equipment:machine_detail", args=[machine.slug]))
    assert f"Saturday: 10:00{DASH}18:00" in detail.content.decode()
    assert f"Sunday: 12:00{DASH}16:00" in detail.content.decode()
