"""Locations and areas: a valid time zone, one default location, history kept by PROTECT."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError

from locations.models import Area, Location, default_location, validate_time_zone
from tests.factories.equipment import MachineFactory
from tests.factories.locations import AreaFactory, LocationFactory


@pytest.mark.parametrize("name", ["America/New_York", "America/Los_Angeles", "UTC"])
def test_an_iana_zone_name_is_valid(name):
    validate_time_zone(name)


@pytest.mark.parametrize("name", ["", "Pacific", "america/new_york", "EST5EDT ", "Mars/Olympus"])
def test_anything_else_is_refused_with_an_example(name):
    with pytest.raises(ValidationError, match="America/New_York"):
        validate_time_zone(name)


def test_a_location_checks_its_zone(db):
    location = Location(name="Raleigh", slug="raleigh", time_zone="Eastern")
    with pytest.raises(ValidationError) as error:
        location.full_clean()
    assert set(error.value.message_dict) == {"time_zone"}


def test_the_zone_is_the_zoneinfo_of_its_name(db):
    assert LocationFactory(time_zone="America/New_York").zone.key == "America/New_York"


def test_with_no_location_the_first_use_makes_one_from_the_space_settings(db, settings):
    settings.SPACE_NAME = "Hacker Dojo"
    settings.TIME_ZONE = "America/New_York"
    machine = MachineFactory()
    assert (machine.location.name, machine.location.slug, machine.location.time_zone) == (
        "Hacker Dojo",
        "hacker-dojo",
        "America/New_York",
    )
    assert MachineFactory().location == machine.location
    assert Location.objects.count() == 1


def test_the_default_is_the_first_open_location(db):
    from django.utils import timezone

    first = LocationFactory(archived_at=timezone.now())
    second = LocationFactory()
    LocationFactory()
    assert default_location() == second
    second.archived_at = timezone.now()
    second.save()
    assert default_location().pk > second.pk
    Location.objects.update(archived_at=timezone.now())
    assert default_location() == first


def test_a_location_with_machines_cannot_be_deleted(db):
    machine = MachineFactory()
    with pytest.raises(ProtectedError):
        machine.location.delete()
    area = AreaFactory(location=machine.location)
    machine.area = area
    machine.save()
    with pytest.raises(ProtectedError):
        area.delete()


def test_area_names_are_unique_within_a_location_only(db):
    a, b = LocationFactory(), LocationFactory()
    AreaFactory(location=a, name="Wood shop", slug="wood-shop")
    AreaFactory(location=b, name="Wood shop", slug="wood-shop")
    with pytest.raises(IntegrityError):
        Area.objects.create(location=a, name="Wood shop", slug="wood-shop-2")
