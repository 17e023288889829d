"""Compare every Stripe-billed membership with its subscription and repair drift (missed webhooks)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import stripe
from django.db import transaction
from django.utils import timezone

from membership.billing.client import BillingUnavailable, stripe_client
from membership.billing.sync import (
    SubscriptionState,
    membership_apply_subscription,
    subscription_state,
)
from membership.models import Membership, MembershipStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Drift:
    membership_id: int
    member: str
    differences: list[str]

    def __str__(self) -> str:
        return f"membership {self.membership_id} ({self.member}): " + "; ".join(self.differences)


def _differences(membership: Membership, state: SubscriptionState) -> list[str]:
    found = []
    target = membership.status if state.status == MembershipStatus.PENDING else state.status
    if membership.status != target:
        found.append(f"status {membership.status} -> {target}")
    if state.paid_through and membership.current_period_end != state.paid_through:
        before = membership.current_period_end
        found.append(
            f"paid through {before.isoformat() if before else '-'} -> "
            f"{state.paid_through.isoformat()}"
        )
    if membership.stripe_subscription_id != state.subscription_id:
        found.append(
            f"subscription {membership.stripe_subscription_id or '-'} -> {state.subscription_id}"
        )
    if membership.stripe_subscription_status != state.stripe_status:
        found.append(
            f"Stripe status {membership.stripe_subscription_status or '-'} -> {state.stripe_status}"
        )
    if membership.stripe_cancel_at_period_end != (state.ends_at is not None):
        found.append(f"ending at period end -> {state.ends_at is not None}")
    return found


def _subscription_of(client: stripe.StripeClient, membership: Membership) -> dict | None:
    if membership.stripe_subscription_id:
        return client.v1.subscriptions.retrieve(membership.stripe_subscription_id).to_dict()
    # The customer exists but no event told us its subscription: take the newest one.
    found = client.v1.subscriptions.list(
        params={"customer": membership.stripe_customer_id, "status": "all", "limit": 1}
    )
    return found.data[0].to_dict() if found.data else None


def billing_reconcile(*, dry_run: bool) -> list[Drift]:
    """Every drift found; unless `dry_run`, each one is repaired (cause: Stripe) as it is found."""
    client = stripe_client()
    drifts = []
    for membership_id in (
        Membership.objects.exclude(stripe_customer_id="")
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        with transaction.atomic():
            membership = (
                Membership.objects.select_for_update()
                .select_related("member__user")
                .get(pk=membership_id)
            )
            try:
                subscription = _subscription_of(client, membership)
            except stripe.StripeError as error:
                raise BillingUnavailable(f"Stripe could not be reached: {error}") from error
            if subscription is None:
                continue
            state = subscription_state(subscription)
            if state.customer_id != membership.stripe_customer_id:
                logger.error(
                    "Subscription %s belongs to %s, not to membership %s's customer %s",
                    state.subscription_id,
                    state.customer_id,
                    membership.pk,
                    membership.stripe_customer_id,
                )
                continue
            differences = _differences(membership, state)
            if not differences:
                continue
            drifts.append(Drift(membership.pk, str(membership.member), differences))
            if not dry_run:
                membership_apply_subscription(
                    membership=membership,
                    state=state,
                    reason=f"Reconciled with Stripe on {timezone.now():%Y-%m-%d}: "
                    f"subscription {state.stripe_status}",
                )
    return drifts
