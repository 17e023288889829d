"""Fixtures of the API tests: credentials for a member and for staff, and a client that sends them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from api import services
from api.models import CredentialKind
from membership import roles
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.membership import MembershipFactory, UserFactory, ready_member


class Api:
    """The Django test client speaking JSON with a bearer token."""

    def __init__(self, client, secret: str | None) -> None:
        self.client, self.secret = client, secret

    def _headers(self, extra: dict) -> dict:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.secret}"} if self.secret else {}
        return {**headers, **extra}

    def get(self, path: str, params: dict | None = None, **extra):
        return self.client.get(f"/api/v1{path}", params or {}, **self._headers(extra))

    def post(self, path: str, body=None, *, raw: str | None = None, **extra):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            f"/api/v1{path}", data, content_type="application/json", **self._headers(extra)
        )


def issue(user, *scopes: str, kind: str = CredentialKind.TOKEN, **kwargs) -> str:
    return services.credential_issue(
        kind=kind, user=user, name="test", scopes=list(scopes), **kwargs
    ).secret


@pytest.fixture
def maker(db):
    return ready_member()


@pytest.fixture
def other_member(db):
    return MembershipFactory().member


@pytest.fixture
def staff(db):
    user = UserFactory(role=roles.STAFF)
    MembershipFactory(member__user=user)
    return user


@pytest.fixture
def member_api(client, maker):
    return Api(client, issue(maker.user, "read", "bookings"))


@pytest.fixture
def read_api(client, maker):
    return Api(client, issue(maker.user, "read"))


@pytest.fixture
def staff_api(client, staff):
    return Api(client, issue(staff, "admin", kind=CredentialKind.KEY))


# Monday 7 January 2030, 08:00 UTC: every booking test runs at this instant.
NOW = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def laser(db, frozen, maker):
    """A laser cutter open around the clock that `maker` is certified on."""
    cert = certification("Laser cutter")
    certify(maker, cert)
    # Paid up at the frozen instant too (the member was made before the clock was frozen).
    maker.membership.current_period_end = NOW + timedelta(days=20)
    maker.membership.save()
    return MachineFactory(name="Laser cutter", slug="laser", required_certification=cert)


def at(hours: float) -> str:
    """The instant `hours` after NOW, as the API takes it."""
    return (NOW + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")
