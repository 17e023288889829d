"""Joining through Checkout, the Customer Portal, and what the billing pages say in each mode."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from membership.models import MembershipStatus
from tests.factories.membership import (
    MembershipFactory,
    StripeEventFactory,
    StripeMembershipFactory,
    StripePlanFactory,
)
from tests.membership import stripe_support as s


def _token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def joiner(stripe_api, client):
    membership = MembershipFactory(
        plan=StripePlanFactory(), status=MembershipStatus.PENDING, current_period_end=None
    )
    client.force_login(membership.member.user)
    return membership


def test_join_creates_the_customer_then_a_subscription_checkout(joiner, client, stripe_api):
    page = client.get(reverse("membership_billing")).content.decode()
    assert "Join: pay $100.00/month with Stripe" in page
    response = client.post(reverse("billing_checkout"), {"form_token": _token(page)})
    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")

    (customer_call,) = stripe_api.calls("post", "/v1/customers")
    user = joiner.member.user
    assert customer_call.params == {
        "email": user.email,
        "name": joiner.member.display_name,
        "metadata[membership_id]": str(joiner.pk),
    }
    assert customer_call.headers["Idempotency-Key"] == f"toolgate-customer-{joiner.pk}"
    joiner.refresh_from_db()
    assert joiner.stripe_customer_id.startswith("cus_")

    (session_call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    billing = "https://space.example.org/billing/"
    assert session_call.params == {
        "mode": "subscription",
        "customer": joiner.stripe_customer_id,
        "line_items[0][price]": "price_1TgMonthly100usd",
        "line_items[0][quantity]": "1",
        "client_reference_id": str(joiner.pk),
        "metadata[membership_id]": str(joiner.pk),
        "subscription_data[metadata][membership_id]": str(joiner.pk),
        "success_url": billing + "?checkout=success&session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": billing + "?checkout=canceled",
    }
    assert session_call.headers["Stripe-Version"] == "2026-10-28.endive"
    assert session_call.headers["Authorization"] == f"Bearer {s.SECRET_KEY}"


def test_a_second_attempt_reuses_the_customer(joiner, client, stripe_api):
    for _ in range(2):
        page = client.get(reverse("membership_billing")).content.decode()
        client.post(reverse("billing_checkout"), {"form_token": _token(page)})
    assert len(stripe_api.calls("post", "/v1/customers")) == 1
    assert len(stripe_api.calls("post", "/v1/checkout/sessions")) == 2


def test_a_double_submitted_join_form_opens_one_checkout(joiner, client, stripe_api):
    token = _token(client.get(reverse("membership_billing")).content.decode())
    client.post(reverse("billing_checkout"), {"form_token": token})
    second = client.post(reverse("billing_checkout"), {"form_token": token}, follow=True)
    assert "already submitted" in second.content.decode()
    assert len(stripe_api.calls("post", "/v1/checkout/sessions")) == 1


def test_returning_from_checkout_shows_pending_until_the_webhook(joiner, client):
    page = client.get(reverse("membership_billing") + "?checkout=success&session_id=cs_1")
    html = page.content.decode()
    assert 'data-checkout="pending"' in html
    assert f'hx-get="{reverse("billing_status")}?since=' in html
    assert "Join: pay" not in html
    fragment = client.get(reverse("billing_status")).content.decode()
    assert 'data-checkout="pending"' in fragment and 'hx-trigger="every 3s"' in fragment


@pytest.mark.parametrize(
    ("waited", "polling"), [(timedelta(seconds=30), True), (timedelta(minutes=3), False)]
)
def test_a_confirmation_that_never_comes_stops_the_polling_and_says_what_to_do(
    joiner, client, waited, polling
):
    since = int((timezone.now() - waited).timestamp())
    fragment = client.get(reverse("billing_status"), {"since": since}).content.decode()
    assert ('hx-trigger="every 3s"' in fragment) is polling
    assert ("Please do not pay again" in fragment) is not polling
    assert "Join: pay" not in fragment


def test_a_garbled_waiting_time_is_treated_as_just_now(joiner, client):
    fragment = client.get(reverse("billing_status"), {"since": "soon"}).content.decode()
    assert 'hx-trigger="every 3s"' in fragment


def test_cancelling_checkout_says_nothing_was_charged(joiner, client):
    page = client.get(reverse("membership_billing") + "?checkout=canceled", follow=True)
    assert "nothing was charged" in page.content.decode()


def test_leaving_checkout_unpaid_leaves_nothing_to_manage(joiner, client, stripe_api):
    """The customer Checkout needs is created first; without a subscription the member is
    offered Join again, not the Customer Portal."""
    page = client.get(reverse("membership_billing")).content.decode()
    client.post(reverse("billing_checkout"), {"form_token": _token(page)})
    joiner.refresh_from_db()
    assert joiner.stripe_customer_id and not joiner.stripe_subscription_id

    back = client.get(reverse("membership_billing") + "?checkout=canceled").content.decode()
    assert "Join: pay $100.00/month with Stripe" in back
    assert "Manage billing" not in back
    portal = client.get(reverse("billing_portal"), follow=True)
    assert "join with the button below first" in portal.content.decode()
    assert stripe_api.calls("post", "/v1/billing_portal/sessions") == []


def test_stripe_down_at_join_is_a_clear_message(joiner, client, stripe_api):
    stripe_api.fail_with_status = 500
    page = client.get(reverse("membership_billing")).content.decode()
    response = client.post(reverse("billing_checkout"), {"form_token": _token(page)}, follow=True)
    assert "Stripe could not be reached just now; nothing was charged" in response.content.decode()


def test_a_plan_without_a_stripe_price_cannot_be_joined_online(stripe_api, member_client, member):
    page = member_client.get(reverse("membership_billing")).content.decode()
    assert "not set up for this plan yet" in page
    response = member_client.post(
        reverse("billing_checkout"), {"form_token": _token(page) if "form_token" in page else ""}
    )
    assert response.status_code == 302
    assert stripe_api.requests == []


def test_subscribed_members_manage_billing_in_the_portal(stripe_api, client):
    membership = StripeMembershipFactory()
    client.force_login(membership.member.user)
    page = client.get(reverse("membership_billing")).content.decode()
    assert "Manage billing" in page and "Join: pay" not in page
    response = client.post(reverse("billing_portal"))
    assert response["Location"].startswith("https://billing.stripe.com/p/session/")
    (call,) = stripe_api.calls("post", "/v1/billing_portal/sessions")
    assert call.params == {
        "customer": membership.stripe_customer_id,
        "return_url": "https://space.example.org/billing/",
    }
    refused = client.post(
        reverse("billing_checkout"), {"form_token": "0b8a1a4e-6c1e-4f5c-9a53-8d1c1f1f0a01"}
    )
    assert refused.status_code == 302
    assert stripe_api.calls("post", "/v1/checkout/sessions") == []


def test_the_portal_needs_a_stripe_customer(stripe_api, member_client):
    response = member_client.get(reverse("billing_portal"), follow=True)
    assert "join with the button below first" in response.content.decode()
    assert stripe_api.requests == []


def test_manual_mode_says_so_and_never_calls_stripe(member_client, settings):
    """Without keys (the demo): the page says payments are taken at the desk; no online join."""
    settings.STRIPE_SECRET_KEY = ""
    page = member_client.get(reverse("membership_billing")).content.decode()
    assert 'data-billing-mode="manual"' in page
    assert "Pay your membership at the front desk" in page
    assert "Billing mode" not in page and "your card" not in page
    assert "Join: pay" not in page and "Manage billing" not in page
    response = member_client.post(
        reverse("billing_checkout"),
        {"form_token": "3f0c2d1e-7b6a-4c5d-8e9f-0a1b2c3d4e5f"},
        follow=True,
    )
    assert "takes membership payments at the front desk" in response.content.decode()
    portal = member_client.get(reverse("billing_portal"), follow=True)
    assert "takes membership payments at the front desk" in portal.content.decode()


def test_staff_see_the_billing_state_and_the_stripe_events(stripe_api, staff_client):
    membership = StripeMembershipFactory(stripe_cancel_at_period_end=True)
    StripeEventFactory(membership=membership, type="invoice.payment_failed", note="sub past_due")
    StripeEventFactory(type="invoice.paid", note="someone else's")
    page = staff_client.get(reverse("staff_member_detail", args=[membership.member.pk]))
    html = page.content.decode()
    assert 'data-billing-mode="stripe"' in html
    assert membership.stripe_customer_id in html and membership.stripe_subscription_id in html
    assert "ends at period end" in html
    assert "invoice.payment_failed" in html and "sub past_due" in html
    assert "someone else" not in html


def test_staff_page_in_manual_mode(staff_client, member, settings):
    settings.STRIPE_SECRET_KEY = ""
    html = staff_client.get(reverse("staff_member_detail", args=[member.pk])).content.decode()
    assert 'data-billing-mode="manual"' in html
    assert "No Stripe events for this member." in html
