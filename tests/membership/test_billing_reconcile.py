"""`manage.py reconcile_billing`: memberships follow Stripe even when webhooks were missed."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from membership.models import MembershipStatus
from tests.factories.membership import MembershipFactory, StripeMembershipFactory
from tests.membership import stripe_support as s


def _missed_failure(stripe_api):
    """We think the member is paid up; Stripe marked the subscription past due (webhook lost)."""
    now = timezone.now()
    membership = StripeMembershipFactory(current_period_end=now + timedelta(days=29))
    stripe_api.subscriptions[membership.stripe_subscription_id] = s.subscription_object(
        subscription_id=membership.stripe_subscription_id,
        customer=membership.stripe_customer_id,
        status="past_due",
        period_start=now - timedelta(days=1),
        period_end=now + timedelta(days=29),
        membership_id=membership.pk,
    )
    return membership


def test_dry_run_reports_drift_and_changes_nothing(stripe_api):
    membership = _missed_failure(stripe_api)
    output = s.reconcile("--dry-run")
    assert f"would fix: membership {membership.pk}" in output
    assert "status active -> past_due" in output
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert not membership.changes.exists()


def test_reconcile_repairs_drift_once(stripe_api):
    membership = _missed_failure(stripe_api)
    assert "fixed: membership" in s.reconcile()
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PAST_DUE
    change = membership.changes.get()
    assert change.cause == "stripe" and change.reason.startswith("Reconciled with Stripe")
    assert "0 membership(s) drifted" in s.reconcile()


def test_a_customer_whose_subscription_we_never_heard_of_is_found(stripe_api):
    membership = StripeMembershipFactory(
        status=MembershipStatus.PENDING,
        current_period_end=None,
        stripe_subscription_id="",
        stripe_subscription_status="",
    )
    subscription = s.subscription_started(stripe_api, customer=membership.stripe_customer_id)
    s.reconcile()
    (listing,) = stripe_api.calls("get", "/v1/subscriptions")
    assert listing.params == {
        "customer": membership.stripe_customer_id,
        "status": "all",
        "limit": "1",
    }
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.stripe_subscription_id == subscription["id"]


def test_manual_memberships_are_left_alone(stripe_api):
    manual = MembershipFactory()
    assert "0 membership(s) drifted" in s.reconcile()
    assert stripe_api.subscription_fetches() == 0
    assert not stripe_api.calls("get", "/v1/subscriptions")
    manual.refresh_from_db()
    assert manual.status == MembershipStatus.ACTIVE


def test_manual_mode_has_nothing_to_reconcile(db, settings):
    settings.STRIPE_SECRET_KEY = ""
    assert "Manual billing mode" in s.reconcile()
