"""The demo chain: Menlo Park and Raleigh, their own machines and staff, an all-locations member
and one whose plan opens Menlo Park only."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from access.models import AccessSource
from access.policy import Reason
from access.services import access_decide
from equipment.models import Machine
from locations.models import Location
from membership.models import Member


@pytest.fixture
def demo(db):
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)  # safe to run again


def test_two_locations_three_hours_apart(demo):
    assert {(loc.slug, loc.time_zone) for loc in Location.objects.all()} == {
        ("menlo-park", "America/Los_Angeles"),
        ("raleigh", "America/New_York"),
    }
    raleigh = Location.objects.get(slug="raleigh")
    assert set(raleigh.machines.values_list("slug", flat=True)) == {
        "raleigh-laser",
        "raleigh-router",
    }
    assert Machine.objects.filter(location__slug="menlo-park").count() == 5
    assert {a.name for a in raleigh.areas.all()} >= {"Metal shop", "Laser room"}
    laser = Machine.objects.get(slug="raleigh-laser")
    assert laser.required_checkout.location == raleigh
    assert list(laser.maintainers.values_list("email", flat=True)) == [
        "raleigh-staff@toolgate.test"
    ]
    assert raleigh.class_sessions.exists()


def test_the_plans_open_what_they_say(demo):
    maker = Member.objects.get(user__email="maker@toolgate.test")
    local = Member.objects.get(user__email="local@toolgate.test")
    assert maker.membership.plan.all_locations
    assert not local.membership.plan.all_locations
    assert list(local.membership.plan.locations.values_list("slug", flat=True)) == ["menlo-park"]
    router = Machine.objects.get(slug="raleigh-router")
    decision = access_decide(
        badge_uid=local.badges.get().uid, machine=router, source=AccessSource.WEB
    ).decision
    assert decision.reason is Reason.PLAN_EXCLUDES_LOCATION
    assert Member.objects.get(user__email="raleigh-staff@toolgate.test").home_location.slug == (
        "raleigh"
    )
