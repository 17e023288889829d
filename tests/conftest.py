"""Fixtures shared by every app's tests: thin wrappers over the factories."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from membership import roles
from tests.factories.membership import MembershipFactory, PlanFactory, UserFactory


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `postgres` (row locks, SKIP LOCKED, the SQL of a lock) run only there."""
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth keeps its rate-limit counters in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _space_language():
    """A request leaves its language active in the thread (Django's LocaleMiddleware does not
    undo it): each test starts and ends in the space's language."""
    translation.deactivate()
    yield
    translation.deactivate()


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


class GateCalls(list):
    """What lower apps told the gates through `core.gates`, in order: (action, arguments)."""

    def machines(self, action: str = "machines_changed") -> list:
        return [machine for name, kw in self if name == action for machine in kw["machines"]]

    def members(self, action: str = "member_lost_access") -> list:
        return [kw["member"].pk for name, kw in self if name == action]


@pytest.fixture
def gate_calls(monkeypatch) -> GateCalls:
    """Records every call lower apps make to the gate outbox; the real outbox still runs."""
    from core import gates

    real, calls = gates.gates(), GateCalls()

    class Recording:
        def __getattr__(self, action):
            def record(**kwargs):
                calls.append((action, kwargs))
                return getattr(real, action)(**kwargs)

            return record

    monkeypatch.setattr(gates, "_installed", Recording())
    return calls
