"""Metering's periodic job for the task runner (beat's schedule is in settings.py)."""

from __future__ import annotations

from celery import shared_task

from core import clock
from metering.services import usage_charges_post, usage_invoice_items_push


@shared_task
def post_usage_charges() -> dict[str, int]:
    """Charge the machine time of months that are over (each part once), then put what is due
    on Stripe invoices there; Stripe out of reach fails the run after the ledger is posted."""
    charged = usage_charges_post(now=clock.now())
    return {"charged": charged, "invoice_items": usage_invoice_items_push()}
