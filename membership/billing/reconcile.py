"""Compare every Stripe-billed membership with its subscription and repair drift (missed webhooks)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import stripe
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from membership.billing.client import BillingUnavailable, stripe_client
from membership.billing.reconcile_money import MoneyDrift, money_reconcile
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


@dataclass(frozen=True)
class ReconcileReport:
    """What a reconcile run found: memberships that drifted from their subscriptions, and money
    the ledger and Stripe disagree about over the last BILLING_RECONCILE_DAYS."""

    dry_run: bool
    memberships: list[Drift] = field(default_factory=list)
    money: list[MoneyDrift] = field(default_factory=list)

    def lines(self) -> list[str]:
        verb = "would fix" if self.dry_run else "fixed"
        return [f"{verb}: {drift}" for drift in self.memberships] + [
            f"{verb if drift.fixable else 'needs staff'}: {drift}" for drift in self.money
        ]

    def summary(self) -> list[str]:
        verb = "would fix" if self.dry_run else "fixed"
        fixable = sum(1 for drift in self.money if drift.fixable)
        return [
            f"{len(self.memberships)} membership(s) drifted from Stripe; "
            f"{verb} {len(self.memberships)}.",
            f"{len(self.money)} money difference(s) between the ledger and Stripe; "
            f"{verb} {fixable}, {len(self.money) - fixable} for staff.",
        ]


def billing_reconcile_report(*, dry_run: bool) -> ReconcileReport:
    """Memberships, then money, compared with Stripe; unless `dry_run`, drift is repaired."""
    memberships = billing_reconcile(dry_run=dry_run)
    since = timezone.now() - timedelta(days=settings.BILLING_RECONCILE_DAYS)
    money = money_reconcile(client=stripe_client(), since=since, dry_run=dry_run)
    return ReconcileReport(dry_run=dry_run, memberships=memberships, money=money)
