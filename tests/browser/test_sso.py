"""Single sign-on through the real redirect flow in headless Chromium: the login page's button,
the provider's own sign-in page, back to the member's dashboard."""

from __future__ import annotations

import pytest

from tests.sso.fixtures import PASSWORD, provider, sso  # noqa: F401  (the provider process)

pytestmark = pytest.mark.browser


def test_member_signs_in_through_the_provider(transactional_db, page, sso, live_server):  # noqa: F811
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Makerspace ID").or_(
        page.get_by_role("link", name="Makerspace ID")
    ).first.click()
    # allauth asks before leaving for the provider (a POST, so no link can start a login).
    if "/accounts/oidc/sso/login/" in page.url:
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{sso.origin}/login/**")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in to the provider").click()
    page.wait_for_url(f"{live_server.url}/**dashboard**")
    assert "ada@example.org" in page.content()
