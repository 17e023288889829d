"""Fixtures of the API tests: credentials for a member and for staff, and a client that sends them."""

from __future__ import annotations

import json

import pytest

from api import services
from api.models import CredentialKind
from membership import roles
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
