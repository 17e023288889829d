"""The Stripe webhook endpoint: signed events only, each applied once, in any order."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from membership.models import MembershipChange, MembershipStatus, Payment, StripeEvent
from tests.factories.membership import (
    BadgeFactory,
    StripeMembershipFactory,
    WaiverFactory,
    WaiverSignatureFactory,
)
from tests.membership import stripe_support as s


def test_completed_checkout_activates_the_membership(joining, deliver, stripe_api):
    """Checkout completion: the subscription is fetched, the membership is active and welcomed."""
    membership, subscription = joining
    response = deliver(s.checkout_completed(membership, subscription))
    assert response.status_code == 200
    assert response.json()["outcome"] == "applied"
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert (
        membership.current_period_end.timestamp()
        == (subscription["items"]["data"][0]["current_period_end"])
    )
    assert membership.stripe_subscription_id == subscription["id"]
    assert membership.stripe_subscription_status == "active"
    change = membership.changes.get()
    assert change.cause == "stripe" and "checkout.session.completed" in change.reason
    assert stripe_api.calls("get", f"/v1/subscriptions/{subscription['id']}")
    assert [m.subject for m in mail.outbox] == [
        "[Toolgate Makerspace] Welcome: your membership is active"
    ]
    assert "https://space.example.org/billing/portal/" in mail.outbox[0].body


def test_a_redelivered_event_changes_nothing_the_second_time(joining, deliver, stripe_api):
    """Stripe delivers at least once: the second delivery is acknowledged and ignored."""
    membership, subscription = joining
    paid = s.event("invoice.paid", s.invoice_object(subscription=subscription, paid=True))
    first, second = deliver(paid), deliver(paid)
    assert first.status_code == second.status_code == 200
    assert StripeEvent.objects.filter(event_id=paid["id"]).count() == 1
    assert MembershipChange.objects.filter(membership=membership).count() == 1
    assert Payment.objects.filter(member=membership.member).count() == 1
    assert len(mail.outbox) == 1
    assert stripe_api.subscription_fetches() == 1


def test_a_late_failure_does_not_undo_a_later_payment(joining, deliver, stripe_api):
    """Out of order: a payment failure delivered after the retry succeeded leaves it active."""
    membership, subscription = joining
    failed = s.event(
        "invoice.payment_failed",
        s.invoice_object(subscription=subscription, paid=False),
        created=int(time.time()) - 120,
    )
    stale = dict(subscription, status="past_due")
    late_update = s.event(
        "customer.subscription.updated",
        stale,
        created=int(time.time()) - 110,
        previous={"status": "active"},
    )
    paid = s.event("invoice.paid", s.invoice_object(subscription=subscription, paid=True))
    for delivered in (paid, late_update, failed):
        assert deliver(delivered).status_code == 200
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert [e.outcome for e in StripeEvent.objects.order_by("id")] == [
        "applied",
        "unchanged",
        "unchanged",
    ]
    assert all("failed" not in m.subject for m in mail.outbox)


def test_subscription_created_before_checkout_completed(joining, deliver):
    """Stripe may send the subscription before the Checkout session: either order works."""
    membership, subscription = joining
    assert deliver(s.event("customer.subscription.created", subscription)).status_code == 200
    assert deliver(s.checkout_completed(membership, subscription)).json()["outcome"] == "unchanged"
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.changes.count() == 1


@pytest.mark.parametrize(
    ("case", "header"),
    [
        ("missing signature", None),
        ("empty signature", ""),
        ("forged with another secret", lambda p: s.sign(p, secret="whsec_attacker")),
        ("signature of another body", lambda p: s.sign(p + " ")),
        ("replayed after the tolerance", lambda p: s.sign(p, timestamp=int(time.time()) - 301)),
        ("no v1 scheme", lambda p: s.sign(p).replace("v1=", "v0=")),
        ("garbage header", "not-a-signature"),
        ("a signature that is not ASCII", lambda p: s.sign(p)[:-1] + "\u00e9"),
    ],
)
def test_unverified_events_are_refused_and_change_nothing(
    joining, deliver, stripe_api, caplog, case, header
):
    membership, subscription = joining
    body = s.encode(s.checkout_completed(membership, subscription))
    signature = header(body) if callable(header) else header
    with caplog.at_level(logging.WARNING, logger="membership.billing.views"):
        response = deliver(body, signature=signature)
    assert response.status_code == 400, case
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PENDING
    assert not StripeEvent.objects.exists()
    assert stripe_api.requests == []
    assert "Stripe webhook refused" in caplog.text


def test_an_event_inside_the_tolerance_is_accepted(joining, deliver):
    membership, subscription = joining
    body = s.encode(s.checkout_completed(membership, subscription))
    response = deliver(body, signature=s.sign(body, timestamp=int(time.time()) - 290))
    assert response.status_code == 200


@pytest.mark.parametrize("secret_key", [s.SECRET_KEY, ""])
def test_without_a_webhook_secret_nothing_is_accepted(joining, deliver, settings, secret_key):
    """No secret means no way to verify: refuse, in Stripe mode and in manual mode alike."""
    membership, subscription = joining
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.STRIPE_SECRET_KEY = secret_key
    body = s.encode(s.checkout_completed(membership, subscription))
    for signature in (s.sign(body, secret=""), s.sign(body), None):
        assert deliver(body, signature=signature).status_code == 400
    assert not StripeEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    ['{"id": "evt_1", "type": "invoice.paid", ', "[]", '{"id": "evt_1"}', "null", '"evt"'],
)
def test_malformed_bodies_are_refused_even_when_signed(stripe_api, deliver, body):
    assert deliver(body).status_code == 400
    assert not StripeEvent.objects.exists()


def test_non_utf8_body_is_refused(stripe_api, client):
    body = b'{"id": "evt_\xff"}'
    header = s.sign(body.decode("latin-1"))
    response = client.post(
        reverse("stripe_webhook"),
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    assert response.status_code == 400


def test_events_of_an_unknown_customer_are_refused_and_logged(stripe_api, deliver, caplog):
    subscription = s.subscription_object(
        subscription_id=s.new_id("sub"),
        customer="cus_NotOurs",
        status="active",
        period_start=timezone.now(),
        period_end=timezone.now() + timedelta(days=30),
    )
    with caplog.at_level(logging.WARNING):
        for kind, obj in [
            ("invoice.paid", s.invoice_object(subscription=subscription, paid=True)),
            ("customer.subscription.updated", subscription),
        ]:
            assert deliver(s.event(kind, obj)).status_code == 400
    assert "unknown customer cus_NotOurs" in caplog.text
    assert not StripeEvent.objects.exists()
    assert stripe_api.requests == []


def test_checkout_pairing_a_membership_with_another_accounts_customer_is_refused(
    joining, deliver, stripe_api
):
    """A session naming membership A with member B's customer moves neither of them."""
    membership, subscription = joining
    other = StripeMembershipFactory()
    forged = s.checkout_completed(membership, subscription)
    forged["data"]["object"]["customer"] = other.stripe_customer_id
    assert deliver(forged).status_code == 400
    other_customer_session = s.checkout_completed(membership, subscription)
    other_customer_session["data"]["object"]["client_reference_id"] = str(other.pk)
    other_customer_session["data"]["object"]["metadata"] = {"membership_id": str(other.pk)}
    assert deliver(other_customer_session).status_code == 400
    membership.refresh_from_db()
    other.refresh_from_db()
    assert membership.status == MembershipStatus.PENDING
    assert membership.stripe_subscription_id == ""
    assert other.stripe_subscription_id != subscription["id"]
    assert not StripeEvent.objects.exists()


def test_a_subscription_claiming_another_membership_is_refused(joining, deliver):
    membership, subscription = joining
    other = StripeMembershipFactory()
    claimed = dict(subscription, metadata={"membership_id": str(other.pk)})
    assert deliver(s.event("customer.subscription.updated", claimed)).status_code == 400
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PENDING


def test_a_subscription_of_another_customer_is_refused(joining, deliver, stripe_api):
    """The fetched subscription must belong to the customer the event named."""
    membership, subscription = joining
    stripe_api.subscriptions[subscription["id"]]["customer"] = "cus_Someone_else"
    assert deliver(s.checkout_completed(membership, subscription)).status_code == 400
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PENDING
    assert not StripeEvent.objects.exists()


def test_events_we_do_not_act_on_are_stored_and_acknowledged(stripe_api, deliver):
    customer_created = s.event("customer.created", {"id": "cus_New", "object": "customer"})
    response = deliver(customer_created)
    assert response.status_code == 200
    assert StripeEvent.objects.get().outcome == "ignored"


def test_when_stripe_is_unreachable_the_event_is_retried_later(joining, deliver, stripe_api):
    """503 and nothing stored, so Stripe's next delivery of the same event is applied."""
    membership, subscription = joining
    checkout = s.checkout_completed(membership, subscription)
    stripe_api.fail_with_status = 500
    assert deliver(checkout).status_code == 503
    assert not StripeEvent.objects.exists()
    stripe_api.fail_with_status = None
    assert deliver(checkout).status_code == 200
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE


def test_a_second_subscription_is_not_adopted(joining, deliver, stripe_api, caplog):
    """Paying twice (two tabs) keeps the first subscription and tells staff in the event log."""
    membership, subscription = joining
    deliver(s.checkout_completed(membership, subscription))
    second = dict(subscription, id=s.new_id("sub"))
    stripe_api.subscriptions[second["id"]] = second
    response = deliver(s.checkout_completed(membership, second))
    assert response.json()["outcome"] == "ignored"
    membership.refresh_from_db()
    assert membership.stripe_subscription_id == subscription["id"]
    assert "second subscription" in StripeEvent.objects.order_by("-id").first().note


def test_cancelling_at_period_end_then_ending(joining, deliver, stripe_api, access_lost):
    """The portal cancel sends one 'ending' email; the deletion ends access and tells the gate."""
    membership, subscription = joining
    member = membership.member
    WaiverSignatureFactory(member=member, waiver=WaiverFactory())
    BadgeFactory(member=member)
    deliver(s.checkout_completed(membership, subscription))
    ending = dict(
        subscription,
        cancel_at_period_end=True,
        cancel_at=subscription["items"]["data"][0]["current_period_end"],
    )
    stripe_api.subscriptions[subscription["id"]] = ending
    deliver(
        s.event("customer.subscription.updated", ending, previous={"cancel_at_period_end": False})
    )
    deliver(s.event("customer.subscription.updated", ending))
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE and membership.stripe_cancel_at_period_end
    assert [m.subject.split("] ")[1] for m in mail.outbox] == [
        "Welcome: your membership is active",
        "Your membership is ending",
    ]
    ended = dict(ending, status="canceled", ended_at=int(time.time()))
    stripe_api.subscriptions[subscription["id"]] = ended
    assert deliver(s.event("customer.subscription.deleted", ended)).status_code == 200
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.CANCELED
    assert access_lost == [member.pk]
    assert mail.outbox[-1].subject.endswith("Your membership has ended")


def test_the_webhook_only_takes_posts(client, db):
    assert client.get(reverse("stripe_webhook")).status_code == 405


def test_the_pinned_api_version_is_the_sdks(settings):
    """Upgrading stripe-python flags the pinned version (and the payload shapes) for review."""
    import stripe

    assert stripe.api_version == settings.STRIPE_API_VERSION


def test_stored_events_keep_the_payload(joining, deliver):
    membership, subscription = joining
    checkout = s.checkout_completed(membership, subscription)
    deliver(checkout)
    stored = StripeEvent.objects.get()
    assert stored.payload == json.loads(s.encode(checkout))
    assert stored.membership == membership
