"""Members print a receipt of each payment from their billing page: the space, the address of
their location, what it paid for and any refund, in the currency's own minor units."""

from __future__ import annotations

import pytest
from django.urls import reverse

from membership.billing.ledger import ledger_record, ledger_refund
from membership.models import LedgerEntry
from tests.factories.locations import LocationFactory
from tests.factories.membership import MembershipFactory, PaymentFactory, PlanFactory


def _paid(member, *, amount: int, currency: str = "usd", method: str = "cash") -> LedgerEntry:
    return ledger_record(
        member=member,
        kind="membership",
        method=method,
        amount_minor=amount,
        currency=currency,
        cause=PaymentFactory(member=member, amount_cents=amount, currency=currency),
        memo="October membership",
        stripe_object_id="pi_TgReceipt" if method == "stripe" else "",
    )


@pytest.fixture
def seoul_member(db, client, settings):
    settings.SPACE_NAME = "Hackerspace Seoul"
    settings.SPACE_LOCALE = "ko_KR"
    location = LocationFactory(
        name="Seongsu", address="12 Seongsu-ro\nSeoul 04781", time_zone="Asia/Seoul"
    )
    member = MembershipFactory(plan=PlanFactory(currency="krw")).member
    member.home_location = location
    member.save(update_fields=["home_location"])
    client.force_login(member.user)
    return member


def test_a_won_receipt_shows_whole_won_the_space_and_its_address(seoul_member, client):
    entry = _paid(seoul_member, amount=10000, currency="krw")
    page = client.get(reverse("membership_billing")).content.decode()
    assert f'href="{reverse("billing_receipt", args=[entry.pk])}"' in page

    receipt = client.get(reverse("billing_receipt", args=[entry.pk])).content.decode()
    assert "Hackerspace Seoul" in receipt
    assert "12 Seongsu-ro<br>Seoul 04781" in receipt
    assert f"R-{entry.pk:06d}" in receipt
    assert "₩10,000" in receipt and "1,000,000" not in receipt
    assert 'data-total="10000"' in receipt


def test_a_refund_shows_on_the_receipt_of_its_payment(member_client, member):
    entry = _paid(member, amount=7500, method="stripe")
    refund = ledger_refund(payment=entry, amount_minor=2500, recorded_by=None, memo="Cancelled")
    receipt = member_client.get(reverse("billing_receipt", args=[entry.pk])).content.decode()
    assert "$75.00" in receipt and "-$25.00" in receipt and 'data-net="5000"' in receipt
    # The refund itself has no receipt of its own; the page links only payments.
    assert member_client.get(reverse("billing_receipt", args=[refund.pk])).status_code == 404
    page = member_client.get(reverse("membership_billing")).content.decode()
    assert page.count("data-receipt-link") == 1


def test_charges_and_other_members_payments_have_no_receipt(member_client, member):
    on_account = ledger_record(
        member=member,
        kind="no_show_fee",
        method="account",
        amount_minor=1500,
        currency="usd",
        cause=PaymentFactory(member=member),
    )
    someone_else = _paid(MembershipFactory().member, amount=10000)
    for entry in (on_account, someone_else):
        assert member_client.get(reverse("billing_receipt", args=[entry.pk])).status_code == 404


def test_a_receipt_needs_a_login(client, member):
    entry = _paid(member, amount=10000)
    response = client.get(reverse("billing_receipt", args=[entry.pk]))
    assert response.status_code == 302 and "login" in response.url
