"""Member actions that go to Stripe: start a Checkout subscription, open the Customer Portal."""

from __future__ import annotations

import logging
import uuid
from typing import TypeGuard

import stripe
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from core.submissions import submission_claim
from membership.billing.client import BillingUnavailable, stripe_client
from membership.billing.config import stripe_enabled
from membership.billing.sync import ENDED_STATUSES
from membership.errors import MembershipError
from membership.models import Member, Membership

logger = logging.getLogger(__name__)

_UNREACHABLE = "Stripe could not be reached just now; nothing was charged. Please try again."


def membership_can_join_online(membership: Membership | None) -> bool:
    """A member may start a subscription unless one is already running for them."""
    return (
        membership is not None
        and stripe_enabled()
        and (
            not membership.stripe_subscription_id
            or membership.stripe_subscription_status in ENDED_STATUSES
        )
    )


def membership_has_online_billing(membership: Membership | None) -> TypeGuard[Membership]:
    """A subscription was started (running or ended), so there is something to manage on Stripe.

    The customer alone is not enough: Checkout creates it first, so a member who left Checkout
    without paying has one, and only Join to go back to.
    """
    return (
        membership is not None
        and stripe_enabled()
        and bool(membership.stripe_customer_id)
        and bool(membership.stripe_subscription_id)
    )


def billing_checkout_start(*, member: Member, token: uuid.UUID | None = None) -> str:
    """Create a Stripe Checkout session for the member's plan; returns the URL to send them to.

    The Stripe customer is created first and kept, so every later event finds this membership
    through its customer id; Checkout also carries our membership id as its reference.
    """
    if not stripe_enabled():
        raise MembershipError(_("This space takes membership payments at the front desk."))
    membership = Membership.objects.select_related("plan").filter(member=member).first()
    if membership is None:
        raise MembershipError(_("You have no membership yet; ask the front desk."))
    if not membership.plan.stripe_price_id:
        raise MembershipError(
            f"The {membership.plan.name} plan is not connected to Stripe yet; ask the front desk."
        )
    if not membership_can_join_online(membership):
        raise MembershipError(
            "You already have a subscription. Use “Manage billing” to change your card."
        )
    customer_id = _customer_ensure(membership=membership, token=token)
    billing_url = settings.SITE_URL + reverse("membership_billing")
    reference = str(membership.pk)
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer_id,
                "line_items": [{"price": membership.plan.stripe_price_id, "quantity": 1}],
                "client_reference_id": reference,
                "metadata": {"membership_id": reference},
                "subscription_data": {"metadata": {"membership_id": reference}},
                "success_url": billing_url + "?checkout=success&session_id={CHECKOUT_SESSION_ID}",
                "cancel_url": billing_url + "?checkout=canceled",
            }
        )
    except stripe.StripeError as error:
        logger.warning("Checkout session for membership %s failed: %s", membership.pk, error)
        raise BillingUnavailable(_UNREACHABLE) from error
    assert session.url is not None, "a hosted Checkout session always has a URL"
    return session.url


def _customer_ensure(*, membership: Membership, token: uuid.UUID | None) -> str:
    """The membership's Stripe customer id, creating the customer once (committed on its own)."""
    with transaction.atomic():
        submission_claim(token)
        locked = (
            Membership.objects.select_for_update()
            .select_related("member__user")
            .get(pk=membership.pk)
        )
        if locked.stripe_customer_id:
            return locked.stripe_customer_id
        user = locked.member.user
        try:
            customer = stripe_client().v1.customers.create(
                params={
                    "email": user.email,
                    "name": locked.member.display_name,
                    "metadata": {"membership_id": str(locked.pk)},
                },
                # A retry after a lost response returns the same customer, not a second one.
                options={"idempotency_key": f"toolgate-customer-{locked.pk}"},
            )
        except stripe.StripeError as error:
            logger.warning("Creating the customer of membership %s failed: %s", locked.pk, error)
            raise BillingUnavailable(_UNREACHABLE) from error
        locked.stripe_customer_id = customer.id
        locked.save(update_fields=["stripe_customer_id"])
        return customer.id


def billing_portal_url(*, member: Member) -> str:
    """A Customer Portal session for the member (change card, invoices, cancel)."""
    if not stripe_enabled():
        raise MembershipError(_("This space takes membership payments at the front desk."))
    membership = Membership.objects.filter(member=member).first()
    if not membership_has_online_billing(membership):
        raise MembershipError(
            _("You have no online billing yet; join with the button below first.")
        )
    try:
        session = stripe_client().v1.billing_portal.sessions.create(
            params={
                "customer": membership.stripe_customer_id,
                "return_url": settings.SITE_URL + reverse("membership_billing"),
            }
        )
    except stripe.StripeError as error:
        logger.warning("Portal session for membership %s failed: %s", membership.pk, error)
        raise BillingUnavailable(_UNREACHABLE) from error
    return session.url
