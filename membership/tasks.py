"""Membership's periodic jobs for the task runner (beat's schedule is in settings.py)."""

from __future__ import annotations

from celery import shared_task

from membership.billing.config import stripe_enabled
from membership.billing.lapse import memberships_lapse
from membership.billing.reconcile import billing_reconcile_report


@shared_task
def lapse_memberships() -> int:
    """Record memberships whose grace period ran out (each once); returns how many."""
    return memberships_lapse()


@shared_task
def reconcile_billing(*, dry_run: bool = False) -> list[str] | None:
    """Repair drift from Stripe (missed webhooks) in memberships and money: a line per drift
    found, or None in manual billing mode (no Stripe keys). Stripe out of reach raises
    BillingUnavailable: a failed run."""
    if not stripe_enabled():
        return None
    report = billing_reconcile_report(dry_run=dry_run)
    return report.lines() + report.summary()


@shared_task
def expire_credits() -> int:
    """Expire prepaid credits past CREDITS_EXPIRE_MONTHS; returns how many members' expired."""
    from core import clock
    from membership.billing.wallet import credits_expire

    return credits_expire(now=clock.now())
