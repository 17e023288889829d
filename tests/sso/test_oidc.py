"""Single sign-on against a real OpenID Connect provider (django-oauth-toolkit in its own process):
sign in, link by verified email, and refuse a forged state or a token for another audience."""

from __future__ import annotations

import importlib

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.urls import clear_url_caches

from membership.models import Member
from tests.factories.membership import UserFactory
from tests.sso import flow
from tests.sso.fixtures import CLIENT_SECRET
from tests.sso.provider import CONFUSED_CLIENT

CALLBACK = "/accounts/oidc/sso/login/callback/"


@pytest.fixture
def refusals(monkeypatch) -> list[tuple[str | None, Exception | None]]:
    """Why allauth refused each sign-in: its error code and the exception (if any)."""
    from membership.adapters import SocialAccountAdapter

    seen: list[tuple[str | None, Exception | None]] = []

    def record(self, request, provider, error=None, exception=None, extra_context=None):
        seen.append((error, exception))

    monkeypatch.setattr(SocialAccountAdapter, "on_authentication_error", record, raising=False)
    return seen


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_first_sign_in_makes_an_account_with_a_member_profile(db, client, sso):
    answer = flow.authorize(flow.provider_session(sso, "ada"), flow.start(client))
    response = client.get(CALLBACK, answer)
    assert response.status_code == 302
    user = get_user_model().objects.get(email="ada@example.org")
    assert (user.first_name, user.last_name) == ("Ada", "Lovelace")
    assert Member.objects.filter(user=user).exists()
    assert SocialAccount.objects.get(user=user).provider == "sso"
    assert EmailAddress.objects.get(user=user).verified
    assert _signed_in(client)


def test_verified_email_links_the_existing_account(db, client, sso):
    existing = UserFactory(email="grace@example.org")
    EmailAddress.objects.create(user=existing, email=existing.email, verified=True, primary=True)
    answer = flow.authorize(flow.provider_session(sso, "grace"), flow.start(client))
    client.get(CALLBACK, answer)
    assert int(client.session["_auth_user_id"]) == existing.pk
    assert SocialAccount.objects.get().user == existing
    assert get_user_model().objects.filter(email="grace@example.org").count() == 1


def test_an_unverified_provider_email_does_not_take_over_an_account(db, client, sso):
    """The provider does not vouch for staff@example.org: the staff account is not signed in to
    nor linked."""
    staff = UserFactory(email="staff@example.org", is_staff=True)
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    answer = flow.authorize(flow.provider_session(sso, "mallory"), flow.start(client))
    client.get(CALLBACK, answer)
    assert client.session.get("_auth_user_id") != str(staff.pk)
    assert not SocialAccount.objects.filter(user=staff).exists()


def test_forged_state_is_refused(db, client, sso, refusals):
    answer = flow.authorize(flow.provider_session(sso, "ada"), flow.start(client))
    response = client.get(CALLBACK, answer | {"state": "forged-state-value"})
    assert 400 <= response.status_code < 500
    # Refused on the state itself, before any code was exchanged with the provider.
    assert [exception for _, exception in refusals] == [None]
    assert not _signed_in(client)
    assert not get_user_model().objects.filter(email="ada@example.org").exists()


def test_callback_without_a_started_login_is_refused(db, client, sso, refusals):
    """A code and state from someone else's login (login CSRF): this browser started none."""
    other = client.__class__()
    answer = flow.authorize(flow.provider_session(sso, "ada"), flow.start(other))
    client.get(CALLBACK, answer)
    assert not _signed_in(client)
    assert [exception for _, exception in refusals] == [None]


def test_id_token_for_another_audience_is_refused(db, client, sso, settings, refusals):
    """The provider signs a genuine ID token, but for another client: refused for its audience."""
    import jwt

    from config.settings import sso_provider_apps

    settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] = sso_provider_apps(
        sso.url, CONFUSED_CLIENT, CLIENT_SECRET, "Makerspace ID"
    )
    answer = flow.authorize(flow.provider_session(sso, "ada"), flow.start(client))
    response = client.get(CALLBACK, answer)
    assert 400 <= response.status_code < 500
    # Refused by allauth's check of the ID token's audience, not by any other failure.
    [(_, refused)] = refusals
    assert isinstance(refused.__cause__, jwt.InvalidAudienceError), repr(refused)
    assert not _signed_in(client)
    assert not get_user_model().objects.filter(email="ada@example.org").exists()


def test_no_provider_configured_means_no_sso(db, client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": []}}
    assert client.post("/accounts/oidc/sso/login/").status_code == 404
    assert b"oidc/sso" not in client.get("/accounts/login/").content


@pytest.mark.parametrize("path", ["/accounts/login/"])
def test_login_page_offers_the_provider(db, client, sso, path):
    page = client.get(path).content.decode()
    assert "Makerspace ID" in page and "/accounts/oidc/sso/login/" in page


def _reload_urls() -> None:
    """allauth leaves the password URLs out when SOCIALACCOUNT_ONLY is set as it imports them."""
    for name in ("allauth.account.urls", "allauth.urls", "config.urls"):
        importlib.reload(importlib.import_module(name))
    clear_url_caches()


@pytest.fixture
def sso_only(settings, sso):
    """SSO_ONLY=1: what config.settings then sets, and the URLs as they are then."""
    settings.SOCIALACCOUNT_ONLY = True
    settings.ACCOUNT_EMAIL_VERIFICATION = "none"
    settings.SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
    _reload_urls()
    yield sso
    settings.SOCIALACCOUNT_ONLY = False
    _reload_urls()


def test_sso_only_refuses_password_login_and_signup(db, client, sso_only):
    user = UserFactory(email="pat@example.org")
    user.set_password("a-long-password-1")
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": "a-long-password-1"}
    )
    assert response.status_code == 403 and not _signed_in(client)
    page = client.get("/accounts/login/").content.decode()
    assert "Makerspace ID" in page and 'name="password"' not in page and "Join" not in page
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.org",
            "password1": "a-long-password-1",
            "password2": "a-long-password-1",
            "first_name": "New",
            "last_name": "Person",
        },
    )
    assert response.status_code == 404
    assert not get_user_model().objects.filter(email="new@example.org").exists()
    assert client.get("/accounts/password/reset/").status_code == 404
    answer = flow.authorize(flow.provider_session(sso_only, "ada"), flow.start(client))
    client.get(CALLBACK, answer)
    assert _signed_in(client)
    assert Member.objects.filter(user__email="ada@example.org").exists()
