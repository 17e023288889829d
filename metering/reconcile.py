"""Machine time on Stripe invoices against the ledger, for `reconcile_billing`: each batch of
usage charges posted for an invoice is one invoice item on Stripe, of the ledger's amount."""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from datetime import datetime

import stripe
from django.contrib.contenttypes.models import ContentType
from django.db.models import Sum

from core.money import money_format
from membership.billing.client import BillingUnavailable
from membership.billing.models import LedgerEntry
from membership.billing.reconcile_money import MoneyDrift, stripe_list
from metering.models import UsageCharge
from metering.services import INVOICE_KIND, usage_invoice_items_push

WHAT = "invoice item"


def _ledger_minor(charges: list[UsageCharge]) -> int:
    """What the ledger holds for the charges now: their entries, less any reversal."""
    return (
        LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.USAGE,
            cause_type=ContentType.objects.get_for_model(UsageCharge),
            cause_id__in=[c.pk for c in charges],
        ).aggregate(total=Sum("amount_minor"))["total"]
        or 0
    )


def _retrieve(client: stripe.StripeClient, item_id: str) -> dict | None:
    try:
        return client.v1.invoice_items.retrieve(item_id).to_dict()
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return None
        raise


def usage_items_reconcile(
    client: stripe.StripeClient, since: datetime, dry_run: bool
) -> list[MoneyDrift]:
    """Every batch posted since `since` against its invoice item; a batch whose item was never
    made (or whose id was lost) is repaired, a deleted or different item is for staff."""
    on_stripe = {
        item_id: item
        for item_id, item in stripe_list(
            client.v1.invoice_items.list(
                params={"created": {"gte": int(since.timestamp())}, "limit": 100}
            )
        ).items()
        if (item.get("metadata") or {}).get("toolgate_kind") == INVOICE_KIND
    }
    by_batch: dict[str, dict] = {
        str(item["metadata"].get("toolgate_ref")): item for item in on_stripe.values()
    }
    batches: dict[uuid.UUID, list[UsageCharge]] = defaultdict(list)
    for charge in UsageCharge.objects.filter(
        billing=UsageCharge.Billing.INVOICE, created_at__gte=since
    ).select_related("member"):
        assert charge.invoice_batch is not None
        batches[charge.invoice_batch].append(charge)
    drifts: list[MoneyDrift] = []
    lost: dict[uuid.UUID, str] = {}
    unsent = 0
    for batch, charges in batches.items():
        member, item_id = str(charges[0].member), charges[0].stripe_invoice_item_id
        ledger = _ledger_minor(charges)
        currency = charges[0].currency
        if not item_id:
            found = by_batch.get(str(batch))
            if found is not None:
                lost[batch] = found["id"]
                difference = f"made on Stripe for batch {batch}, its id not kept"
                drifts.append(MoneyDrift(WHAT, found["id"], member, difference, fixable=True))
            else:
                unsent += 1
                difference = f"{money_format(ledger, currency)} of machine time not on Stripe yet"
                drifts.append(MoneyDrift(WHAT, f"(batch {batch})", member, difference, True))
            continue
        found = on_stripe.get(item_id) or _retrieve(client, item_id)
        if found is None:
            difference = f"{money_format(ledger, currency)} in the ledger, the item is gone"
        elif (found.get("amount"), found.get("currency")) != (ledger, currency):
            on = money_format(int(found.get("amount") or 0), str(found.get("currency")))
            difference = f"the ledger has {money_format(ledger, currency)}, Stripe {on}"
        else:
            continue
        drifts.append(MoneyDrift(WHAT, item_id, member, difference, fixable=False))
    known = {c.stripe_invoice_item_id for group in batches.values() for c in group} | set(
        lost.values()
    )
    for item_id, item in on_stripe.items():
        if (
            item_id not in known
            and not UsageCharge.objects.filter(stripe_invoice_item_id=item_id).exists()
        ):
            difference = f"machine time item for batch {item['metadata'].get('toolgate_ref')!r} "
            drifts.append(
                MoneyDrift(WHAT, item_id, "", difference + "that Toolgate did not post", False)
            )
    if not dry_run:
        for batch, item_id in lost.items():
            UsageCharge.objects.filter(invoice_batch=batch).update(stripe_invoice_item_id=item_id)
        if unsent:
            # Reported above either way; if Stripe fails again the hourly job retries.
            with contextlib.suppress(BillingUnavailable):
                usage_invoice_items_push()
    return drifts
