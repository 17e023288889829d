"""What the billing pages show: the mode, the membership's billing state, the event history."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from membership import selectors
from membership.billing.config import MANUAL, billing_mode
from membership.billing.services import membership_can_join_online, membership_has_online_billing
from membership.models import Member, Membership, StripeEvent


def billing_overview(member: Member, *, checkout_returned: bool = False) -> dict:
    """The member billing page's state: manual or Stripe, join, pending or manage."""
    membership = Membership.objects.select_related("plan").filter(member=member).first()
    mode = billing_mode()
    in_good_standing = selectors.membership_in_good_standing(membership, at=timezone.now())
    confirmed = (
        membership is not None and bool(membership.stripe_subscription_id) and in_good_standing
    )
    return {
        "billing_mode": mode,
        "manual_billing": mode == MANUAL,
        "membership": membership,
        "in_good_standing": in_good_standing,
        # Back from Checkout, the webhook may not have arrived yet: say so instead of "join".
        "checkout_pending": checkout_returned and not confirmed,
        "checkout_confirmed": checkout_returned and confirmed,
        "can_join": membership_can_join_online(membership) and not checkout_returned,
        "can_join_plan_ready": membership is not None and bool(membership.plan.stripe_price_id),
        "can_manage": membership_has_online_billing(membership),
    }


def membership_stripe_events(membership: Membership | None) -> QuerySet[StripeEvent]:
    if membership is None:
        return StripeEvent.objects.none()
    return membership.stripe_events.order_by("-received_at", "-id")
