"""Machine time put on a Stripe invoice is settled on the member's account once it is paid."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from membership.billing.models import LedgerEntry
from membership.billing.selectors import member_balances
from membership.models import Payment
from metering.models import UsageCharge
from metering.services import usage_charges_post, usage_invoice_items_push
from tests.factories.equipment import MachineRateFactory
from tests.factories.membership import StripeMembershipFactory
from tests.membership import stripe_support as s

LA = ZoneInfo("America/Los_Angeles")
NOVEMBER_START = datetime(2026, 11, 1, tzinfo=LA)
OCTOBER_2 = datetime(2026, 10, 2, 18, tzinfo=LA)


@pytest.fixture
def invoiced(stripe_api, gate_session):
    """A Stripe member's October on the laser (2.5 hours, $75) is an invoice item; Stripe holds
    their subscription."""
    membership = StripeMembershipFactory()
    subscription = s.subscription_held(stripe_api, membership)
    gate_session(OCTOBER_2, 2, who=membership.member)
    gate_session(OCTOBER_2 + timedelta(days=3), 0.5, who=membership.member)
    usage_charges_post(now=NOVEMBER_START)
    usage_invoice_items_push()
    return membership, subscription


def _balance(member):
    (balance,) = member_balances(member)
    return balance


def _items(stripe_api):
    return list(stripe_api.invoice_items.values())


def test_a_paid_invoice_settles_its_machine_time_once(invoiced, stripe_api, deliver):
    membership, subscription = invoiced
    member = membership.member
    assert _balance(member).on_account == 7500
    invoice = s.invoice_with_items(stripe_api, subscription=subscription, items=_items(stripe_api))
    paid = s.event("invoice.paid", invoice)

    assert deliver(paid).status_code == 200
    balance = _balance(member)
    assert (balance.paid, balance.on_account) == (17500, 0)
    settled = LedgerEntry.objects.get(kind=LedgerEntry.Kind.ACCOUNT_SETTLED)
    assert (settled.method, settled.amount_minor, settled.currency) == ("account", -7500, "usd")
    assert settled.cause == Payment.objects.get(stripe_invoice_id=invoice["id"])
    assert settled.stripe_object_id == invoice["lines"]["data"][1]["id"]
    assert "Laser cutter, October 2026" in settled.memo

    # Redelivered, and the same invoice in a second event (as after a resend): settled once.
    assert deliver(paid).status_code == 200
    assert deliver(s.event("invoice.paid", invoice)).status_code == 200
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.ACCOUNT_SETTLED).count() == 1
    assert _balance(member).on_account == 0


def test_lines_the_event_left_out_are_fetched_from_stripe(
    invoiced, stripe_api, deliver, gate_session
):
    """Stripe's event holds the first lines of a long invoice; the rest are fetched, page by page."""
    membership, subscription = invoiced
    other = MachineRateFactory(machine__name="CNC router", machine__slug="cnc").machine
    gate_session(OCTOBER_2 + timedelta(days=5), 1, who=membership.member, on=other)
    usage_charges_post(now=NOVEMBER_START)
    usage_invoice_items_push()
    assert _balance(membership.member).on_account == 7500 + 3000
    invoice = s.invoice_with_items(
        stripe_api, subscription=subscription, items=_items(stripe_api), lines_in_event=1
    )
    deliver(s.event("invoice.paid", invoice))
    assert _balance(membership.member).on_account == 0
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.ACCOUNT_SETTLED).count() == 2
    (fetch,) = stripe_api.calls("get", f"/v1/invoices/{invoice['id']}/lines")
    assert fetch.params == {"limit": "100"}


def test_an_item_whose_id_was_never_kept_is_matched_by_its_batch(invoiced, stripe_api, deliver):
    """The invoice item was made but its answer lost: the paid invoice still finds the charges
    through the batch in the item's metadata, whichever arrives first."""
    membership, subscription = invoiced
    UsageCharge.objects.update(stripe_invoice_item_id="")
    invoice = s.invoice_with_items(stripe_api, subscription=subscription, items=_items(stripe_api))
    deliver(s.event("invoice.paid", invoice))
    assert _balance(membership.member).on_account == 0


def test_a_line_that_matches_no_machine_time_of_the_member_settles_nothing(
    invoiced, stripe_api, deliver, caplog
):
    membership, subscription = invoiced
    stranger = {
        "id": "ii_NotOurs",
        "amount": 999,
        "currency": "usd",
        "metadata": {"toolgate_kind": "usage", "toolgate_ref": "not-a-batch"},
    }
    invoice = s.invoice_with_items(stripe_api, subscription=subscription, items=[stranger])
    assert deliver(s.event("invoice.paid", invoice)).status_code == 200
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.ACCOUNT_SETTLED).exists()
    assert _balance(membership.member).on_account == 7500
    assert "matches no machine time" in caplog.text


def test_when_the_lines_cannot_be_fetched_the_event_is_retried(invoiced, stripe_api, deliver):
    membership, subscription = invoiced
    invoice = s.invoice_with_items(
        stripe_api, subscription=subscription, items=_items(stripe_api), lines_in_event=1
    )
    stripe_api.fail_with_status = 500
    event = s.event("invoice.paid", invoice)
    assert deliver(event).status_code == 503
    assert not Payment.objects.filter(stripe_invoice_id=invoice["id"]).exists()
    stripe_api.fail_with_status = None
    assert deliver(event).status_code == 200
    assert _balance(membership.member).on_account == 0
