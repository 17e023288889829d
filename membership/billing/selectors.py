"""What the billing pages show: the mode, the membership's billing state, the event history."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from membership import selectors
from membership.billing.config import MANUAL, billing_mode
from membership.billing.services import membership_can_join_online, membership_has_online_billing
from membership.models import Member, Membership, StripeEvent

CHECKOUT_PATIENCE = timedelta(minutes=2)


def billing_overview(
    member: Member, *, checkout_returned: bool = False, waiting_since: datetime | None = None
) -> dict[str, object]:
    """The member billing page's state: manual or Stripe, join, pending or manage.

    Back from Checkout, the page waits `waiting_since` onwards for Stripe's webhook; after
    CHECKOUT_PATIENCE it stops polling and says what to do instead of "a few seconds" forever.
    """
    membership = Membership.objects.select_related("plan").filter(member=member).first()
    mode = billing_mode()
    now = timezone.now()
    in_good_standing = selectors.membership_in_good_standing(membership, at=now)
    confirmed = (
        membership is not None and bool(membership.stripe_subscription_id) and in_good_standing
    )
    waiting_since = min(waiting_since or now, now)
    unconfirmed = checkout_returned and not confirmed
    slow = unconfirmed and now - waiting_since > CHECKOUT_PATIENCE
    return {
        "billing_mode": mode,
        "manual_billing": mode == MANUAL,
        "membership": membership,
        "in_good_standing": in_good_standing,
        # Back from Checkout, the webhook may not have arrived yet: say so instead of "join".
        "checkout_pending": unconfirmed and not slow,
        "checkout_slow": slow,
        "waiting_since": int(waiting_since.timestamp()),
        "checkout_confirmed": checkout_returned and confirmed,
        "can_join": membership_can_join_online(membership) and not checkout_returned,
        "can_join_plan_ready": membership is not None and bool(membership.plan.stripe_price_id),
        "can_manage": membership_has_online_billing(membership),
    }


def membership_stripe_events(membership: Membership | None) -> QuerySet[StripeEvent]:
    if membership is None:
        return StripeEvent.objects.none()
    return membership.stripe_events.order_by("-received_at", "-id")
