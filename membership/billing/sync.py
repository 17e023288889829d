"""Moving a membership to the state of its Stripe subscription.

The subscription as Stripe holds it now is the truth: webhooks and the reconcile command fetch it
and apply it here, so events that arrive twice or out of order cannot move a membership backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from membership.billing import emails
from membership.models import ChangeCause, Membership, MembershipStatus
from membership.services import membership_set_status

_STATUS = {
    "active": MembershipStatus.ACTIVE,
    "trialing": MembershipStatus.ACTIVE,
    "past_due": MembershipStatus.PAST_DUE,
    "unpaid": MembershipStatus.PAST_DUE,
    "paused": MembershipStatus.PAST_DUE,
    "canceled": MembershipStatus.CANCELED,
    "incomplete_expired": MembershipStatus.CANCELED,
    "incomplete": MembershipStatus.PENDING,
}
ENDED_STATUSES = {"canceled", "incomplete_expired"}


def stripe_id(value: Any) -> str:
    """The id of a Stripe reference, whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def stripe_time(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


@dataclass(frozen=True)
class SubscriptionState:
    """What a Stripe subscription means for the membership."""

    subscription_id: str
    customer_id: str
    stripe_status: str
    status: str
    paid_through: datetime | None
    ends_at: datetime | None  # set when the member cancelled at period end (or a cancel date)


def subscription_state(subscription: dict) -> SubscriptionState:
    """Read a subscription in the pinned API version's shape (periods live on its items).

    Paid through: the end of the current period while it is paid; when the renewal invoice is
    unpaid, Stripe has already moved the period on, so the member is paid through its start.
    """
    stripe_status = subscription["status"]
    status = _STATUS.get(stripe_status, MembershipStatus.PAST_DUE)
    items = subscription.get("items", {}).get("data", [])
    starts = [item["current_period_start"] for item in items if item.get("current_period_start")]
    ends = [item["current_period_end"] for item in items if item.get("current_period_end")]
    if status == MembershipStatus.ACTIVE:
        paid_through = stripe_time(max(ends, default=None))
    elif status == MembershipStatus.PAST_DUE:
        paid_through = stripe_time(min(starts, default=None))
    elif status == MembershipStatus.CANCELED:
        paid_through = stripe_time(subscription.get("ended_at")) or stripe_time(
            max(ends, default=None)
        )
    else:
        paid_through = None
    ends_at = None
    if status != MembershipStatus.CANCELED:
        if subscription.get("cancel_at"):
            ends_at = stripe_time(subscription["cancel_at"])
        elif subscription.get("cancel_at_period_end"):
            ends_at = stripe_time(max(ends, default=None))
    return SubscriptionState(
        subscription_id=subscription["id"],
        customer_id=stripe_id(subscription.get("customer")),
        stripe_status=stripe_status,
        status=status,
        paid_through=paid_through,
        ends_at=ends_at,
    )


def membership_apply_subscription(
    *, membership: Membership, state: SubscriptionState, reason: str
) -> bool:
    """Apply `state` to a membership the caller holds locked; True when anything changed.

    A membership is never moved back to pending (an incomplete first payment leaves it as it is).
    Emails follow the state change, not the event, so a redelivered event sends nothing twice.
    """
    before_status = membership.status
    before_ending = membership.stripe_cancel_at_period_end
    target = state.status
    if target == MembershipStatus.PENDING:
        target = before_status
    paid_through = state.paid_through or membership.current_period_end
    state_changed = target != before_status or paid_through != membership.current_period_end
    ending = state.ends_at is not None
    fields_changed = (
        membership.stripe_subscription_id != state.subscription_id
        or membership.stripe_subscription_status != state.stripe_status
        or before_ending != ending
    )
    Membership.objects.filter(pk=membership.pk).update(
        stripe_subscription_id=state.subscription_id,
        stripe_subscription_status=state.stripe_status,
        stripe_cancel_at_period_end=ending,
        stripe_synced_at=timezone.now(),
    )
    if state_changed:
        membership_set_status(
            membership=membership,
            status=target,
            reason=reason,
            cause=ChangeCause.STRIPE,
            period_end=paid_through,
        )
    membership.refresh_from_db()
    if target == MembershipStatus.ACTIVE and before_status in {
        MembershipStatus.PENDING,
        MembershipStatus.CANCELED,
    }:
        emails.send_after_commit(emails.WELCOME, membership)
    elif target == MembershipStatus.PAST_DUE and before_status == MembershipStatus.ACTIVE:
        emails.send_after_commit(emails.PAYMENT_FAILED, membership)
    elif target == MembershipStatus.CANCELED and before_status != MembershipStatus.CANCELED:
        emails.send_after_commit(emails.MEMBERSHIP_ENDED, membership)
    if ending and not before_ending and target != MembershipStatus.CANCELED:
        emails.send_after_commit(emails.MEMBERSHIP_ENDING, membership, ends_at=state.ends_at)
    return state_changed or fields_changed
