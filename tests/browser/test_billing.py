"""A member pays online: Stripe Checkout and back, the page confirming by itself when the
webhooks arrive, the Customer Portal, and a Checkout cancelled half way.

Stripe's API is the recording fake of the billing tests (the live server runs in this process).
Its sessions send the browser straight back to the URL the site gave (as Stripe does once the
member has paid, pressed back or left the portal), so the browser never leaves loopback; webhooks
reach the live server over HTTP, signed with the test secret as Stripe signs them.
"""

from __future__ import annotations

import http.client

import pytest
from django.urls import reverse

from membership.models import Membership, MembershipStatus
from tests.factories.membership import (
    PASSWORD,
    BadgeFactory,
    MembershipFactory,
    StripeMembershipFactory,
    StripePlanFactory,
    WaiverFactory,
    WaiverSignatureFactory,
)
from tests.membership import stripe_support as s

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JOIN = "Join: pay $100.00/month with Stripe"


@pytest.fixture
def stripe_api(settings, monkeypatch, live_server) -> s.FakeStripeAPI:
    """Stripe billing mode against the fake API, with the live server as the site's address."""
    fake = s.fake_stripe_install(
        settings=settings, monkeypatch=monkeypatch, site_url=live_server.url
    )
    fake.checkout_returns_to = "success_url"
    fake.portal_returns = True
    return fake


def _stripe_sends(live_server, event: dict) -> None:
    """Deliver an event to the webhook endpoint over HTTP, as Stripe does (no session cookie)."""
    payload = s.encode(event)
    server = http.client.HTTPConnection(
        live_server.thread.host, live_server.thread.port, timeout=10
    )
    server.request(
        "POST",
        reverse("stripe_webhook"),
        body=payload.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": s.sign(payload)},
    )
    response = server.getresponse()
    assert response.status == 200, response.read()
    server.close()


def _joiner() -> Membership:
    """Signed up, waiver signed, badge issued: only the payment is missing."""
    membership = MembershipFactory(
        plan=StripePlanFactory(),
        status=MembershipStatus.PENDING,
        current_period_end=None,
        member__user__first_name="Jo",
        member__user__last_name="Joiner",
    )
    WaiverSignatureFactory(member=membership.member, waiver=WaiverFactory())
    BadgeFactory(member=membership.member)
    return membership


def _click_to_stripe(page, button: str, stripe_api, path: str) -> s.Request:
    """Press `button`; the site must redirect to the URL of the session it created on Stripe."""
    with page.expect_response(lambda response: response.request.method == "POST") as sent:
        page.get_by_role("button", name=button).click()
    (call,) = stripe_api.calls("post", path)
    assert sent.value.status == 302
    assert sent.value.headers["location"] == call.answer["url"]
    page.wait_for_url(call.answer["url"])
    return call


def test_a_member_pays_with_checkout_and_the_page_confirms_by_itself(
    page, log_in, live_server, stripe_api
):
    membership = _joiner()
    user = membership.member.user
    log_in(user, PASSWORD)

    page.goto("/billing/")
    session_call = _click_to_stripe(page, JOIN, stripe_api, "/v1/checkout/sessions")
    membership.refresh_from_db()
    billing = live_server.url + "/billing/"
    assert session_call.params == {
        "mode": "subscription",
        "customer": membership.stripe_customer_id,
        "line_items[0][price]": s.PRICE_ID,
        "line_items[0][quantity]": "1",
        "client_reference_id": str(membership.pk),
        "metadata[membership_id]": str(membership.pk),
        "subscription_data[metadata][membership_id]": str(membership.pk),
        "success_url": billing + "?checkout=success&session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": billing + "?checkout=canceled",
    }
    (customer_call,) = stripe_api.calls("post", "/v1/customers")
    assert customer_call.params["email"] == user.email

    # Paid on Stripe and back on the site, before any webhook has arrived.
    assert page.url == billing + f"?checkout=success&session_id={session_call.answer['id']}"
    state = page.locator("#billing-state")
    state.get_by_text("Payment received by Stripe — confirming…").wait_for()
    assert state.locator(".pill").inner_text() == "Pending"
    page.evaluate("window.stillTheSamePage = true")

    # Stripe confirms. The page polls and flips to Active without a reload.
    subscription = s.subscription_started(
        stripe_api, customer=membership.stripe_customer_id, membership_id=membership.pk
    )
    session = s.checkout_session_object(
        membership_id=membership.pk,
        customer=membership.stripe_customer_id,
        subscription_id=subscription["id"],
    )
    invoice = s.invoice_object(
        subscription=subscription, paid=True, billing_reason="subscription_create"
    )
    for event in [
        s.event("checkout.session.completed", session),
        s.event("customer.subscription.created", subscription),
        s.event("invoice.paid", invoice),
    ]:
        _stripe_sends(live_server, event)

    state.get_by_text("Your subscription is confirmed.").wait_for()
    assert state.locator(".pill").inner_text() == "Active"
    assert page.evaluate("window.stillTheSamePage") is True
    assert state.get_attribute("hx-trigger") is None  # polling has stopped

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    page.get_by_role("heading", name="You're ready to make").wait_for()
    payment_step = page.locator('[data-step="payment"]')
    assert payment_step.get_attribute("class") == "done"
    assert "Paid through " in payment_step.inner_text()


def test_a_subscribed_member_manages_billing_in_the_customer_portal(
    page, log_in, live_server, stripe_api
):
    membership = StripeMembershipFactory()
    log_in(membership.member.user, PASSWORD)

    page.goto("/billing/")
    call = _click_to_stripe(page, "Manage billing", stripe_api, "/v1/billing_portal/sessions")
    assert call.params == {
        "customer": membership.stripe_customer_id,
        "return_url": live_server.url + "/billing/",
    }
    assert page.locator("#billing-state .pill").inner_text() == "Active"


def test_a_member_who_cancels_checkout_is_told_nothing_was_charged(
    page, log_in, live_server, stripe_api
):
    membership = _joiner()
    log_in(membership.member.user, PASSWORD)
    stripe_api.checkout_returns_to = "cancel_url"

    page.goto("/billing/")
    _click_to_stripe(page, JOIN, stripe_api, "/v1/checkout/sessions")
    assert page.url == live_server.url + "/billing/?checkout=canceled"
    page.get_by_text("Checkout was cancelled; nothing was charged.").wait_for()

    state = page.locator("#billing-state")
    assert state.locator(".pill").inner_text() == "Pending"
    assert "confirming" not in state.inner_text()
    assert state.get_by_role("button", name=JOIN).is_enabled()
    # Nothing to manage on Stripe yet: the page offers what it offered before Checkout.
    assert state.get_by_role("button", name="Manage billing").count() == 0
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PENDING
    assert membership.stripe_subscription_id == ""
    assert membership.current_period_end is None
