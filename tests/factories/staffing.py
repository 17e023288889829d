"""Staff with location roles (staffing): at named locations, or chain-wide (the head office)."""

from __future__ import annotations

import factory

from membership import roles
from staffing.models import LocationRole, RefusedAction, Role
from staffing.services import location_role_grant
from tests.factories.locations import LocationFactory
from tests.factories.membership import UserFactory


def staff_at(*locations, role: str = roles.STAFF, **kwargs):
    """A user in the role's group holding it at `locations`; none given: at every location."""
    user = UserFactory(role=role, **kwargs)
    kind = Role.INSTRUCTOR if role == roles.INSTRUCTOR else Role.STAFF
    for location in locations or (None,):
        location_role_grant(user=user, role=kind, location=location)
    return user


class LocationRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocationRole

    user = factory.SubFactory(UserFactory, role=roles.STAFF)
    role = Role.STAFF
    location = factory.SubFactory(LocationFactory)


class RefusedActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RefusedAction

    user = factory.SubFactory(UserFactory, role=roles.STAFF)
    role = Role.STAFF
    location = factory.SubFactory(LocationFactory)
    what = "gate page"
    path = "/access/gates/raleigh-gate-1/"
