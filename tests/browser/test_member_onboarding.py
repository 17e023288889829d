"""A newcomer signs up, verifies their email, logs in, signs the waiver and sees the dashboard."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.factories.membership import PlanFactory, WaiverFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_verify_log_in_and_sign_the_waiver(page, live_server):
    PlanFactory()
    WaiverFactory(text="Eye protection at all times.")

    page.goto("/")
    page.get_by_role("main").get_by_role("link", name="Join", exact=True).first.click()
    page.get_by_text("a month").first.wait_for()  # the price and the steps come before the form
    page.get_by_label("Email").fill("lin@example.org")
    page.get_by_label("First name").fill("Lin")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_label("Password:", exact=True).fill("laser-cut-plywood-3mm")
    page.get_by_label("Password (again)").fill("laser-cut-plywood-3mm")
    page.get_by_role("button", name="Join", exact=True).click()
    page.get_by_text("Verify Your Email Address").first.wait_for()

    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    page.goto(live_server.url + "/" + link.split("://", 1)[1].split("/", 1)[1])
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/dashboard/")

    # Logged in straight after confirming; log out and in again as a returning member would.
    page.locator("nav .menu summary").last.click()  # the account menu
    page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("lin@example.org")
    page.get_by_label("Password").fill("laser-cut-plywood-3mm")
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url("**/dashboard/")
    assert page.locator('[data-step="waiver"]').get_attribute("class") == "todo"

    page.locator('[data-step="waiver"]').get_by_role("link", name="Sign it").click()
    page.get_by_label("Type your full name to sign").fill("Lin Okafor")
    page.get_by_label("I have read the waiver and agree to it").check()
    page.get_by_role("button", name="Sign the waiver").click()
    page.wait_for_url("**/dashboard/")

    assert "Thank you: you signed" in page.content()
    assert page.locator('[data-step="waiver"]').get_attribute("class") == "done"
    assert page.get_by_role("heading", name="Hello, Lin").is_visible()
