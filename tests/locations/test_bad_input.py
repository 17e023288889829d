"""Bad input across the chain: clear refusals, nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.services import machine_move
from core.errors import DomainError
from equipment import services as equipment_services
from equipment.errors import EquipmentError
from equipment.models import Machine
from locations import services
from locations.errors import LocationError
from locations.models import Location
from membership import roles
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory
from tests.factories.locations import AreaFactory, LocationFactory
from tests.factories.membership import PlanFactory, UserFactory, ready_member
from tests.factories.training import ClassSessionFactory
from training.models import LocalCheckout


@pytest.fixture
def staff(db):
    return UserFactory(role=roles.STAFF)


# --- A machine moved while booked ---------------------------------------------------------------


def test_a_booked_machine_cannot_move_and_nothing_changes(menlo, raleigh, staff, gate_calls):
    machine = MachineFactory(location=menlo, area=AreaFactory(location=menlo, name="Laser room"))
    BookingFactory(machine=machine, start=timezone.now() + timedelta(days=1))
    with pytest.raises(EquipmentError) as refused:
        machine_move(machine=machine, location=raleigh, actor=staff)
    assert refused.value.message == (
        f"{machine.name} has 1 booking(s) and 0 class(es) to come at Menlo Park: cancel or "
        "finish them before moving it to Raleigh."
    )
    machine.refresh_from_db()
    assert (machine.location, machine.area.name) == (menlo, "Laser room")
    assert gate_calls.machines() == []


def test_a_machine_held_for_a_class_cannot_move(menlo, raleigh, staff):
    machine = MachineFactory(location=menlo)
    machine.class_sessions.add(ClassSessionFactory(location=menlo))
    with pytest.raises(EquipmentError, match="1 class"):
        machine_move(machine=machine, location=raleigh, actor=staff)
    assert Machine.objects.get(pk=machine.pk).location == menlo


def test_a_machine_free_ahead_moves_and_the_gates_are_told(menlo, raleigh, staff, gate_calls):
    machine = MachineFactory(location=menlo)
    machine.required_checkout = LocalCheckout.objects.create(location=menlo, name="Menlo laser")
    machine.save()
    BookingFactory(  # history stays where it happened
        machine=machine,
        start=timezone.now() - timedelta(days=2),
        end=timezone.now() - timedelta(days=2, hours=-1),
    )
    metal = AreaFactory(location=raleigh, name="Metal shop")
    machine_move(machine=machine, location=raleigh, area=metal, actor=staff)
    machine.refresh_from_db()
    assert (machine.location, machine.area, machine.required_checkout) == (raleigh, metal, None)
    assert gate_calls.machines() == [machine]


def test_a_machine_moves_only_into_an_area_of_its_new_location(menlo, raleigh, staff):
    machine = MachineFactory(location=menlo)
    with pytest.raises(EquipmentError, match="not an area of Raleigh"):
        machine_move(
            machine=machine, location=raleigh, area=AreaFactory(location=menlo), actor=staff
        )
    raleigh.archived_at = timezone.now()
    raleigh.save()
    with pytest.raises(EquipmentError, match="archived"):
        machine_move(machine=machine, location=raleigh, actor=staff)
    with pytest.raises(EquipmentError, match="Only staff"):
        machine_move(machine=machine, location=menlo, actor=UserFactory())


def test_saving_a_machine_with_another_locations_area_is_refused(menlo, raleigh, staff):
    machine = MachineFactory(location=menlo)
    machine.area = AreaFactory(location=raleigh)
    with pytest.raises(EquipmentError, match="not an area of Menlo Park"):
        equipment_services.machine_save(machine=machine, maintainers=[], actor=staff)
    machine.area = None
    machine.required_checkout = LocalCheckout.objects.create(location=raleigh, name="R")
    with pytest.raises(EquipmentError, match="another location"):
        equipment_services.machine_save(machine=machine, maintainers=[], actor=staff)
    assert Machine.objects.get(pk=machine.pk).area is None


# --- An area moved ------------------------------------------------------------------------------


def test_an_area_in_use_cannot_move(menlo, raleigh):
    area = AreaFactory(location=menlo, name="Wood shop")
    MachineFactory(location=menlo, area=area)
    with pytest.raises(LocationError, match="cannot move to Raleigh"):
        services.area_move(area=area, location=raleigh)
    area.refresh_from_db()
    assert area.location == menlo


def test_an_unused_area_moves_unless_the_name_is_taken_there(menlo, raleigh):
    area = AreaFactory(location=menlo, name="Paint booth")
    AreaFactory(location=raleigh, name="paint booth")
    with pytest.raises(LocationError, match="already has"):
        services.area_move(area=area, location=raleigh)
    other = AreaFactory(location=menlo, name="Store")
    assert services.area_move(area=other, location=raleigh).location == raleigh
    assert services.area_move(area=area, location=menlo).location == menlo


def test_area_ensure_finds_any_case_and_refuses_no_name(menlo):
    first = services.area_ensure(location=menlo, name="Laser room")
    assert services.area_ensure(location=menlo, name=" laser ROOM ") == first
    assert services.area_ensure(location=menlo, name="Laser-room").slug == "laser-room-2"
    with pytest.raises(LocationError):
        services.area_ensure(location=menlo, name="  ")


# --- A location deleted or archived -------------------------------------------------------------


def test_a_location_with_history_is_not_deleted_but_archived(menlo, raleigh):
    MachineFactory(location=raleigh, state="retired")
    with pytest.raises(LocationError, match="Archive it instead"):
        services.location_delete(location=raleigh)
    assert Location.objects.filter(pk=raleigh.pk).exists()
    services.location_archive(location=raleigh)
    raleigh.refresh_from_db()
    assert raleigh.archived and raleigh not in Location.objects.open()


@pytest.mark.parametrize("history", ["plan", "member", "area", "checkout"])
def test_every_kind_of_history_keeps_a_location(menlo, raleigh, history):
    if history == "plan":
        PlanFactory(name="Raleigh only", all_locations=False, is_default=False).locations.add(
            raleigh
        )
    elif history == "member":
        member = ready_member()
        member.home_location = raleigh
        member.save()
    elif history == "area":
        AreaFactory(location=raleigh)
    else:
        LocalCheckout.objects.create(location=raleigh, name="R")
    with pytest.raises(LocationError):
        services.location_delete(location=raleigh)
    assert Location.objects.filter(pk=raleigh.pk).exists()


def test_a_location_nothing_points_at_is_deleted(menlo):
    mistake = LocationFactory(name="Typo")
    services.location_delete(location=mistake)
    assert not Location.objects.filter(pk=mistake.pk).exists()


def test_archiving_is_refused_while_things_happen_there(menlo, raleigh):
    machine = MachineFactory(location=raleigh)
    with pytest.raises(LocationError, match="1 machine"):
        services.location_archive(location=raleigh)
    machine.state = "retired"
    machine.save()
    ClassSessionFactory(location=raleigh)
    with pytest.raises(LocationError, match="classes to come"):
        services.location_archive(location=raleigh)
    assert not Location.objects.get(pk=raleigh.pk).archived


def test_the_last_open_location_is_not_archived(menlo):
    with pytest.raises(LocationError, match="only open location"):
        services.location_archive(location=menlo)
    LocationFactory()
    services.location_archive(location=menlo)
    with pytest.raises(LocationError, match="already archived"):
        services.location_archive(location=menlo)


def test_the_admin_refuses_deleting_a_location_with_history(admin_client, menlo, raleigh):
    MachineFactory(location=raleigh)
    url = reverse("admin:locations_location_delete", args=[raleigh.pk])
    page = admin_client.post(url, {"post": "yes"}).content.decode()
    assert Location.objects.filter(pk=raleigh.pk).exists()
    assert "protected" in page or "cannot be deleted" in page


def test_the_admin_archive_action_says_why_it_refuses(admin_client, menlo, raleigh):
    MachineFactory(location=raleigh)
    response = admin_client.post(
        reverse("admin:locations_location_changelist"),
        {"action": "archive", "_selected_action": [raleigh.pk]},
        follow=True,
    )
    assert "not retired" in response.content.decode()
    assert not Location.objects.get(pk=raleigh.pk).archived


def test_domain_errors_of_the_chain_are_domain_errors():
    assert issubclass(LocationError, DomainError)
