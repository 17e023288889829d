"""`manage.py reconcile_billing` compares the ledger's card payments and refunds with Stripe's:
a dry run reports, a fix run records what a missed webhook would have, the rest is for staff."""

from __future__ import annotations

import pytest

from membership.billing import desk
from membership.models import LedgerEntry, Material, MaterialSale
from tests.factories.membership import StripeMembershipFactory
from tests.membership import stripe_support as s


@pytest.fixture
def card_sale(stripe_api, staff_user):
    """Sell two $12 sheets to a Stripe member's card on file (the card doing `outcome`)."""
    acrylic = Material.objects.create(name="Acrylic", unit="sheet", price_minor=1200, stock=9)

    def make(outcome: str = "succeeded") -> MaterialSale:
        stripe_api.card_outcome = outcome
        membership = StripeMembershipFactory()
        s.subscription_held(stripe_api, membership)
        sale = desk.material_sell(
            member=membership.member,
            material=acrylic,
            quantity=2,
            method="stripe",
            actor=staff_user,
        )
        sale.refresh_from_db()
        return sale

    return make


def _refunds(sale):
    return list(
        LedgerEntry.objects.filter(member=sale.member, kind="refund").values_list(
            "amount_minor", "stripe_object_id"
        )
    )


def test_a_ledger_that_agrees_with_stripe_reports_nothing(card_sale, stripe_api):
    card_sale()
    output = s.reconcile("--dry-run")
    assert "0 money difference(s) between the ledger and Stripe" in output
    (listing,) = stripe_api.calls("get", "/v1/payment_intents")
    assert set(listing.params) == {"created[gte]", "limit"}


def test_a_refund_made_on_stripe_whose_webhook_was_missed_is_reported_then_recorded_once(
    card_sale, stripe_api
):
    sale = card_sale()
    refund = s.refund_in_dashboard(stripe_api, payment_intent=sale.payment_intent_id, amount=1200)

    output = s.reconcile("--dry-run")
    assert (
        f"would fix: refund {refund['id']} ({sale.member}): $12.00 refunded on Stripe from "
        f"{sale.payment_intent_id}, not in the ledger"
    ) in output
    assert _refunds(sale) == []

    assert f"fixed: refund {refund['id']}" in s.reconcile()
    assert _refunds(sale) == [(-1200, refund["id"])]
    assert "0 money difference(s)" in s.reconcile()
    assert _refunds(sale) == [(-1200, refund["id"])]


def test_a_refund_in_the_ledger_that_stripe_lacks_or_failed_is_for_staff(card_sale, stripe_api):
    sale = card_sale()
    refund = s.refund_in_dashboard(stripe_api, payment_intent=sale.payment_intent_id, amount=600)
    s.reconcile()
    refund["status"] = "failed"
    assert (
        f"needs staff: refund {refund['id']} ({sale.member}): in the ledger, but Stripe says failed"
        in (s.reconcile())
    )
    stripe_api.refunds.clear()
    output = s.reconcile()
    assert (
        f"needs staff: refund {refund['id']} ({sale.member}): in the ledger, not on Stripe"
        in output
    )
    assert "1 money difference(s) between the ledger and Stripe; fixed 0, 1 for staff." in output
    assert _refunds(sale) == [(-600, refund["id"])]  # the ledger is never changed behind staff


def test_a_charge_stripe_holds_differently_or_not_at_all_is_for_staff(card_sale, stripe_api):
    sale = card_sale()
    stripe_api.payment_intents[sale.payment_intent_id]["amount"] = 2000
    assert (
        f"needs staff: charge {sale.payment_intent_id} ({sale.member}): the ledger has $24.00, Stripe $20.00"
        in (s.reconcile("--dry-run"))
    )
    del stripe_api.payment_intents[sale.payment_intent_id]
    assert f"charge {sale.payment_intent_id} ({sale.member}): in the ledger, not on Stripe" in (
        s.reconcile("--dry-run")
    )
    (fetch,) = stripe_api.calls("get", f"/v1/payment_intents/{sale.payment_intent_id}")[-1:]
    assert fetch.answer is None


def test_a_sale_whose_success_event_was_missed_is_recorded_once(card_sale, stripe_api):
    sale = card_sale("processing")
    s.payment_intent_ended(stripe_api, sale.payment_intent_id, succeeded=True)
    assert "would fix: charge" in s.reconcile("--dry-run")
    assert LedgerEntry.objects.filter(member=sale.member).count() == 0
    assert "fixed: charge" in s.reconcile()
    sale.refresh_from_db()
    assert sale.state == "paid"
    assert list(
        LedgerEntry.objects.filter(member=sale.member).values_list("amount_minor", flat=True)
    ) == [2400]
    assert "0 money difference(s)" in s.reconcile()


def test_another_kind_of_payment_missing_from_the_ledger_is_for_staff(stripe_api, db):
    stripe_api.payment_intents["pi_ClassFee"] = {
        "id": "pi_ClassFee",
        "object": "payment_intent",
        "amount": 7500,
        "currency": "usd",
        "customer": None,
        "status": "succeeded",
        "metadata": {"toolgate_kind": "class_fee", "toolgate_ref": "12"},
        "created": 2_000_000_000,
    }
    assert (
        "needs staff: charge pi_ClassFee (no member): $75.00 paid on Stripe (class_fee 12), "
        "not in the ledger" in s.reconcile()
    )


def test_a_credit_pack_paid_in_checkout_whose_webhook_was_missed_is_credited_once(stripe_api):
    """Paid on Stripe, never in the ledger: the dry run reports it, the fix run credits the
    pack through the handler the webhook uses, and a second run finds nothing."""
    from membership.billing import wallet
    from membership.billing.catalogue import CreditPack
    from membership.billing.selectors import member_balances

    pack = CreditPack.objects.create(name="$50 of credits", amount_minor=5000, currency="usd")
    membership = StripeMembershipFactory()
    s.subscription_held(stripe_api, membership)
    member = membership.member
    wallet.credit_pack_checkout(member=member, pack=pack)
    (checkout,) = stripe_api.calls("post", "/v1/checkout/sessions")
    session = s.checkout_paid(stripe_api, checkout)
    intent_id = session["payment_intent"]

    assert (
        f"would fix: charge {intent_id} (no member): $50.00 paid on Stripe "
        f"(credit_pack {pack.pk}-{member.pk}), not in the ledger"
    ) in s.reconcile("--dry-run")
    assert not LedgerEntry.objects.filter(member=member).exists()

    assert f"fixed: charge {intent_id}" in s.reconcile()
    assert list(
        LedgerEntry.objects.filter(member=member).values_list(
            "kind", "amount_minor", "stripe_object_id"
        )
    ) == [("credit_purchase", 5000, intent_id)]
    (balance,) = member_balances(member)
    assert balance.credits == 5000
    assert "0 money difference(s)" in s.reconcile()
    assert LedgerEntry.objects.filter(member=member).count() == 1
    (lookup, *_) = stripe_api.calls("get", "/v1/checkout/sessions")
    assert lookup.params == {"payment_intent": intent_id, "limit": "1"}
