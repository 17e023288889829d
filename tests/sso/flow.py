"""The redirect flow without a browser, for the refusal tests: the site's test client starts the
login, a `requests` session signs in at the provider and follows it to the callback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from tests.sso.fixtures import PASSWORD


def provider_session(provider, username: str) -> requests.Session:
    """A browser-like session signed in at the provider as `username`."""
    session = requests.Session()
    login = f"{provider.origin}/login/"
    session.get(login, timeout=10)
    session.post(
        login,
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["provider_csrf"],
        },
        headers={"Referer": login},
        timeout=10,
        allow_redirects=False,
    )
    assert "provider_session" in session.cookies, "could not sign in at the provider"
    return session


def start(client) -> str:
    """POST the site's SSO button; returns the provider's authorization URL it redirects to."""
    response = client.post("/accounts/oidc/sso/login/")
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def authorize(session: requests.Session, authorization_url: str) -> dict[str, str]:
    """The provider's answer to the authorization request: the callback's code and state."""
    response = session.get(authorization_url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {name: values[0] for name, values in query.items()}
