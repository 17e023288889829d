"""The token and key pages: a secret shown once, revoked at once, keys for staff only."""

from __future__ import annotations

import re

import pytest

from api.models import ApiCredential, CredentialKind

pytestmark = pytest.mark.django_db


def _token(response) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', response.content.decode()).group(1)


def _secret(response) -> str | None:
    found = re.search(r'<code id="new-secret">([^<]+)</code>', response.content.decode())
    return found.group(1) if found else None


def test_a_member_makes_a_token_sees_it_once_and_it_works(client, maker):
    client.force_login(maker.user)
    page = client.get("/api/tokens/")
    made = client.post(
        "/api/tokens/",
        {"name": "calendar script", "scopes": ["read"], "form_token": _token(page)},
    )
    secret = _secret(made)
    assert secret and secret.startswith("tg_token_")
    assert _secret(client.get("/api/tokens/")) is None  # never shown again
    assert "calendar script" in client.get("/api/tokens/").content.decode()
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert me.status_code == 200 and me.json()["id"] == maker.pk


def test_a_member_cannot_pick_a_staff_scope(client, maker):
    client.force_login(maker.user)
    page = client.get("/api/tokens/")
    made = client.post(
        "/api/tokens/", {"name": "x", "scopes": ["admin"], "form_token": _token(page)}
    )
    assert _secret(made) is None and not ApiCredential.objects.exists()


def test_revoking_on_the_page_stops_the_token_at_once(client, maker):
    client.force_login(maker.user)
    page = client.get("/api/tokens/")
    secret = _secret(
        client.post("/api/tokens/", {"name": "t", "scopes": ["read"], "form_token": _token(page)})
    )
    credential = ApiCredential.objects.get()
    page = client.get("/api/tokens/")
    client.post(f"/api/tokens/{credential.pk}/revoke/", {"form_token": _token(page)})
    answer = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "token_revoked"


def test_a_member_cannot_revoke_anothers_token(client, maker, other_member):
    from tests.api.conftest import issue

    issue(other_member.user, "read")
    theirs = ApiCredential.objects.get()
    client.force_login(maker.user)
    page = client.get("/api/tokens/")
    response = client.post(f"/api/tokens/{theirs.pk}/revoke/", {"form_token": _token(page)})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_keys_are_for_staff(client, maker, staff):
    client.force_login(maker.user)
    assert client.get("/api/keys/").status_code == 403
    client.force_login(staff)
    page = client.get("/api/keys/")
    made = client.post(
        "/api/keys/",
        {
            "name": "door display",
            "scopes": ["access-log"],
            "rate_limit_per_minute": 120,
            "form_token": _token(page),
        },
    )
    assert _secret(made).startswith("tg_key_")
    key = ApiCredential.objects.get()
    assert (key.kind, key.scopes, key.rate_limit_per_minute, key.user) == (
        CredentialKind.KEY,
        ["access-log"],
        120,
        staff,
    )
