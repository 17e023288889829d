"""Stripe's membership payments land in the ledger once, in the invoice's own minor units."""

from __future__ import annotations

from membership.billing import selectors
from membership.models import LedgerEntry, Payment
from tests.factories.membership import PlanFactory, StripeMembershipFactory
from tests.membership import stripe_support as s


def _paid_invoice(stripe_api, membership, *, currency: str, amount: int) -> dict:
    subscription = s.subscription_held(stripe_api, membership)
    invoice = s.invoice_object(subscription=subscription, paid=True)
    invoice.update(currency=currency, amount_paid=amount, amount_due=amount, total=amount)
    return invoice


def test_a_paid_invoice_is_one_ledger_entry_even_when_redelivered(stripe_api, deliver):
    membership = StripeMembershipFactory()
    invoice = _paid_invoice(stripe_api, membership, currency="usd", amount=10000)
    event = s.event("invoice.paid", invoice)
    assert deliver(event).status_code == 200
    assert deliver(event).status_code == 200  # the same event again
    assert (
        deliver(s.event("invoice.paid", invoice)).status_code == 200
    )  # another event, same invoice
    (entry,) = LedgerEntry.objects.filter(member=membership.member)
    assert (entry.amount_minor, entry.currency, entry.method, entry.kind) == (
        10000,
        "usd",
        "stripe",
        "membership",
    )
    assert entry.stripe_object_id == invoice["id"]
    assert entry.cause == Payment.objects.get(stripe_invoice_id=invoice["id"])
    assert entry.recorded_by is None


def test_a_won_invoice_is_recorded_in_whole_won(stripe_api, deliver, settings):
    """Stripe sends ₩50,000 as 50000 (KRW is zero-decimal): the ledger keeps 50000."""
    settings.SPACE_LOCALE = "ko_KR"
    plan = PlanFactory(name="월 회원", monthly_price_cents=50000, currency="krw")
    membership = StripeMembershipFactory(plan=plan)
    invoice = _paid_invoice(stripe_api, membership, currency="krw", amount=50000)
    assert deliver(s.event("invoice.paid", invoice)).status_code == 200
    (balance,) = selectors.member_balances(membership.member)
    assert (balance.currency, balance.paid) == ("krw", 50000)
    assert str(LedgerEntry.objects.get(member=membership.member)) == "Membership ₩50,000"
