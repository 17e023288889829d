"""`reconcile_billing` checks machine time on Stripe invoices: each batch posted for an invoice
is one invoice item of the ledger's amount."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from membership.billing.client import BillingUnavailable
from membership.billing.ledger import ledger_reverse
from membership.billing.models import LedgerEntry
from metering.models import UsageCharge
from metering.services import usage_charges_post, usage_invoice_items_push
from tests.factories.membership import StripeMembershipFactory
from tests.membership import stripe_support as s

LA = ZoneInfo("America/Los_Angeles")
NOVEMBER_START = datetime(2026, 11, 1, tzinfo=LA)
OCTOBER_2 = datetime(2026, 10, 2, 18, tzinfo=LA)


@pytest.fixture
def posted(stripe_api, gate_session):
    """A Stripe member's October on the laser ($75) is posted for their next invoice."""
    membership = StripeMembershipFactory()
    s.subscription_held(stripe_api, membership)
    gate_session(OCTOBER_2, 2.5, who=membership.member)
    usage_charges_post(now=NOVEMBER_START)
    return membership


def test_an_item_never_made_is_reported_then_made(posted, stripe_api):
    stripe_api.fail_with_status = 500
    with pytest.raises(BillingUnavailable):
        usage_invoice_items_push()
    stripe_api.fail_with_status = None
    assert "would fix: invoice item (batch" in s.reconcile("--dry-run")
    assert stripe_api.invoice_items == {}
    assert "$75.00 of machine time not on Stripe yet" in s.reconcile()
    (_failed, made) = stripe_api.calls("post", "/v1/invoiceitems")
    assert UsageCharge.objects.get().stripe_invoice_item_id == made.answer["id"]
    assert "0 money difference(s)" in s.reconcile()


def test_an_item_whose_id_was_lost_gets_it_back(posted, stripe_api):
    usage_invoice_items_push()
    (item_id,) = stripe_api.invoice_items
    UsageCharge.objects.update(stripe_invoice_item_id="")
    assert f"fixed: invoice item {item_id}" in s.reconcile()
    assert UsageCharge.objects.get().stripe_invoice_item_id == item_id
    assert len(stripe_api.calls("post", "/v1/invoiceitems")) == 1


def test_a_deleted_or_different_item_is_for_staff(posted, stripe_api, staff_user):
    usage_invoice_items_push()
    (item,) = stripe_api.invoice_items.values()
    assert "0 money difference(s)" in s.reconcile()
    # Staff reversed the charge but the item is still on the invoice.
    ledger_reverse(
        entry=LedgerEntry.objects.get(kind="usage"), actor=staff_user, reason="gate glitch"
    )
    assert (
        f"needs staff: invoice item {item['id']} ({posted.member}): the ledger has $0.00, "
        "Stripe $75.00" in s.reconcile()
    )
    del stripe_api.invoice_items[item["id"]]
    assert (
        f"invoice item {item['id']} ({posted.member}): $0.00 in the ledger, the item is gone"
        in (s.reconcile("--dry-run"))
    )


def test_a_usage_item_toolgate_did_not_post_is_for_staff(posted, stripe_api):
    stripe_api.invoice_items["ii_Stray"] = {
        "id": "ii_Stray",
        "object": "invoiceitem",
        "amount": 500,
        "currency": "usd",
        "metadata": {"toolgate_kind": "usage", "toolgate_ref": "nope"},
        "created": int((datetime.now(tz=LA) - timedelta(days=1)).timestamp()),
    }
    usage_invoice_items_push()
    assert "needs staff: invoice item ii_Stray (no member): machine time item for batch 'nope'" in (
        s.reconcile()
    )
