"""The upgrade migration: a single space's data moves into one default location."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("locations", "0001_initial"),
    ("equipment", "0003_machine_required_checkout"),
    ("training", "0003_locations"),
    ("membership", "0004_locations"),
]
AFTER = [
    ("locations", "0002_default_location"),
    ("equipment", "0004_machine_area_from_location"),
    ("training", "0004_class_location_required"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_apps(transactional_db):
    apps = _migrate(BEFORE)
    yield apps
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_todays_data_moves_into_one_default_location(old_apps, settings):
    """Named from SPACE_NAME, in TIME_ZONE; each distinct free-text area becomes one Area."""
    settings.SPACE_NAME = "Hacker Dojo"
    settings.TIME_ZONE = "America/New_York"
    Machine = old_apps.get_model("equipment", "Machine")
    User = old_apps.get_model("membership", "User")
    Member = old_apps.get_model("membership", "Member")
    Certification = old_apps.get_model("training", "Certification")
    ClassSession = old_apps.get_model("training", "ClassSession")
    for slug, area in [("a", "Laser room"), ("b", "laser room "), ("c", "Wood shop"), ("d", "")]:
        Machine.objects.create(name=slug, slug=slug, area=area)
    user = User.objects.create(email="ann@example.org")
    Member.objects.create(user=user)
    now = timezone.now()
    ClassSession.objects.create(
        certification=Certification.objects.create(name="Laser", slug="laser"),
        instructor=user,
        start=now,
        end=now + timezone.timedelta(hours=2),
    )

    apps = _migrate(AFTER)

    Location = apps.get_model("locations", "Location")
    location = Location.objects.get()
    assert (location.name, location.slug, location.time_zone) == (
        "Hacker Dojo",
        "hacker-dojo",
        "America/New_York",
    )
    areas = {
        m.slug: m.area.name if m.area else None
        for m in apps.get_model("equipment", "Machine").objects.select_related("area")
    }
    assert areas == {"a": "Laser room", "b": "Laser room", "c": "Wood shop", "d": None}
    assert set(apps.get_model("locations", "Area").objects.values_list("slug", flat=True)) == {
        "laser-room",
        "wood-shop",
    }
    assert set(
        apps.get_model("equipment", "Machine").objects.values_list("location", flat=True)
    ) == {location.pk}
    assert apps.get_model("training", "ClassSession").objects.get().location_id == location.pk
    assert apps.get_model("membership", "Member").objects.get().home_location_id == location.pk


def test_a_fresh_install_gets_no_location_until_it_has_something_to_put_there(old_apps):
    apps = _migrate(AFTER)
    assert not apps.get_model("locations", "Location").objects.exists()
