"""Prepaid credits: packs bought through Checkout, a staff-set limit, expiry as an entry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from membership.billing import selectors, wallet
from membership.billing.catalogue import CreditPack
from membership.billing.wallet import SaleRefused
from membership.models import LedgerEntry, StripeEvent
from tests.factories.membership import LedgerEntryFactory
from tests.membership import stripe_support as s


@pytest.fixture
def pack(db):
    return CreditPack.objects.create(name="$50 of credits", amount_minor=5000, currency="usd")


def test_a_pack_bought_through_checkout_is_credited_once(stripe_api, deliver, member, pack):
    url = wallet.credit_pack_checkout(member=member, pack=pack)
    assert url.startswith("https://checkout.stripe.com/c/pay/")
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    assert call.params["allow_promotion_codes"] == "false"  # credits are money
    assert call.params["line_items[0][price_data][unit_amount]"] == "5000"
    assert call.params["metadata[toolgate_kind]"] == "credit_pack"
    session = s.payment_session_object(call)
    completed = s.event("checkout.session.completed", session)
    assert deliver(completed).json()["outcome"] == "applied"
    assert deliver(completed).json()["outcome"] == "applied"  # the stored event, again
    again = s.event("checkout.session.completed", session)
    assert deliver(again).json()["outcome"] == "unchanged"
    assert selectors.member_credit_balance(member, "usd") == 5000
    entry = LedgerEntry.objects.get(member=member)
    assert (entry.kind, entry.method, entry.cause) == ("credit_purchase", "stripe", pack)
    assert StripeEvent.objects.count() == 2


def test_a_pack_session_that_paid_another_amount_is_refused(stripe_api, deliver, member, pack):
    wallet.credit_pack_checkout(member=member, pack=pack)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    session = dict(s.payment_session_object(call), amount_total=100)
    assert deliver(s.event("checkout.session.completed", session)).status_code == 400
    assert selectors.member_credit_balance(member, "usd") == 0


def test_packs_are_sold_at_the_desk_in_manual_mode(member, pack):
    with pytest.raises(SaleRefused, match="front desk"):
        wallet.credit_pack_checkout(member=member, pack=pack)


def _spend(member, amount):
    return wallet.credits_spend(
        member=member,
        amount_minor=amount,
        currency="usd",
        kind="material",
        cause=member,
        actor=None,
        memo="test",
    )


def test_a_staff_set_limit_lets_credits_go_below_zero_that_far(member, staff_user):
    wallet.credits_buy_at_desk(member=member, amount_minor=1000, currency="usd", actor=staff_user)
    with pytest.raises(SaleRefused, match=r"\$10.00 left, \$15.00 needed"):
        _spend(member, 1500)
    member.credit_limit_minor = 500
    member.save()
    _spend(member, 1500)
    assert selectors.member_credit_balance(member, "usd") == -500
    with pytest.raises(SaleRefused, match=r"-\$5.00 left \(and \$5.00 of credit\), \$0.01 needed"):
        _spend(member, 1)


def test_unspent_old_credits_expire_as_an_entry_oldest_spent_first(member, staff_user, settings):
    settings.CREDITS_EXPIRE_MONTHS = 6
    now = timezone.now()
    old = now - timedelta(days=200)
    LedgerEntryFactory(member=member, kind="credit_purchase", amount_minor=3000, occurred_at=old)
    wallet.credits_buy_at_desk(member=member, amount_minor=2000, currency="usd", actor=staff_user)
    _spend(member, 1200)  # from the oldest credits: 1800 of them are left
    assert wallet.credits_expire(now=now) == 1
    expiry = LedgerEntry.objects.get(kind="credit_expiry")
    assert (expiry.method, expiry.amount_minor) == ("credits", 1800)
    assert selectors.member_credit_balance(member, "usd") == 2000
    assert wallet.credits_expire(now=now) == 0  # once


def test_credits_never_expire_by_default(member, staff_user):
    wallet.credits_buy_at_desk(member=member, amount_minor=2000, currency="usd", actor=staff_user)
    assert wallet.credits_expire(now=timezone.now() + timedelta(days=3650)) == 0


def test_members_buy_a_pack_from_the_billing_page(stripe_api, client, member, pack):
    import re

    from django.urls import reverse

    client.force_login(member.user)
    page = client.get(reverse("membership_billing")).content.decode()
    assert "Buy $50 of credits ($50.00)" in page
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    response = client.post(reverse("billing_credit_pack", args=[pack.pk]), {"form_token": token})
    assert response["Location"].startswith("https://checkout.stripe.com/c/pay/")
    back = client.get(reverse("membership_billing") + "?credits=success").content.decode()
    assert "your credits appear here as soon as Stripe confirms" in back


def test_in_manual_mode_the_page_sends_members_to_the_desk(client, member, pack):
    from django.urls import reverse

    client.force_login(member.user)
    page = client.get(reverse("membership_billing")).content.decode()
    assert "Buy a pack at the front desk." in page and "data-credit-packs" not in page
