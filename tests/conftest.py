"""Fixtures shared by every app's tests: thin wrappers over the factories."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from membership import roles
from tests.factories.membership import MembershipFactory, PlanFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth keeps its rate-limit counters in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def plan(db):
    return PlanFactory()


@pytest.fixture
def member(db):
    return MembershipFactory().member


@pytest.fixture
def staff_user(db):
    return UserFactory(role=roles.STAFF)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def member_client(client, member):
    client.force_login(member.user)
    return client
