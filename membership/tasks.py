"""Membership's periodic jobs for the task runner (beat's schedule is in settings.py)."""

from __future__ import annotations

from celery import shared_task

from core.tasks import QueuedOnCommit
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


@shared_task(base=QueuedOnCommit)
def send_refund(refund_id: int) -> str:
    """Ask Stripe for a refund Toolgate decided (queued when the decision commits); a try that
    fails for a reason that may pass is tried again by `sweep_refunds` after its backoff.
    Returns the refund's state after this try ("" when it was not due)."""
    from membership.billing.refund_sending import refund_attempt

    return refund_attempt(refund_id=refund_id)


@shared_task
def sweep_refunds() -> int:
    """Periodic: queue each requested refund whose next try is due (a retry after its backoff,
    or a first try whose task was lost). Returns how many."""
    from core import clock
    from membership.billing.refund_sending import refunds_due

    due = refunds_due(now=clock.now())
    for refund_id in due:
        send_refund.delay(refund_id)
    return len(due)


@shared_task
def expire_desk_sales() -> int:
    """Periodic: desk sales still awaiting a card payment after DESK_SALE_PAYMENT_MINUTES are
    undone (stock back, the seller told); returns how many."""
    from core import clock
    from membership.billing.desk import desk_sales_expire

    return desk_sales_expire(now=clock.now())
