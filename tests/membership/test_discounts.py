"""Staff-set discounts at the desk: a percent or an amount off a sale, a class fee or a day pass,
with a reason; the entry is what was paid and the discount is kept beside it, never changed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from membership.billing import desk, wallet
from membership.billing.discounts import (
    DiscountAsked,
    discount_minor,
    discount_price,
    discount_refusal,
)
from membership.billing.ledger import LedgerRefused
from membership.models import Discount, LedgerEntry, LedgerImmutable, Material, MaterialSale
from tests.factories.membership import StripeMembershipFactory, UserFactory
from tests.factories.training import CertificationFactory, ClassSessionFactory, EnrollmentFactory
from training import fees
from training.models import FeeState


@pytest.fixture
def acrylic(db):
    return Material.objects.create(name="Acrylic 3 mm", unit="sheet", price_minor=1200, stock=5)


@pytest.fixture
def cashier(staff_user):
    assert staff_user.has_perm("membership.record_payment")
    return staff_user


def _off(kind, value, reason="Volunteer"):
    return DiscountAsked(kind=kind, value=value, reason=reason)


@pytest.mark.parametrize(
    ("asked", "list_minor", "currency", "off"),
    [
        (_off("percent", 10), 2400, "usd", 240),
        (_off("percent", 10), 1234, "usd", 123),  # 123.4 cents: rounded half up to a cent
        (_off("percent", 15), 1230, "usd", 185),  # 184.5 -> 185
        (_off("percent", 15), 15000, "krw", 2250),  # whole won
        (_off("percent", 33), 1001, "krw", 330),
        (_off("fixed", 500), 3000, "usd", 500),
    ],
)
def test_what_comes_off(asked, list_minor, currency, off):
    assert discount_minor(asked=asked, list_minor=list_minor, currency=currency) == off
    assert discount_refusal(asked=asked, list_minor=list_minor, currency=currency) is None


@pytest.mark.parametrize(
    ("asked", "says"),
    [
        (_off("percent", 10, reason="  "), "Say why"),
        (_off("percent", 0), "between 1 and 99"),
        (_off("percent", 100), "between 1 and 99"),
        (_off("fixed", 0), "more than nothing"),
        (_off("fixed", 3000), "leaves something to pay"),
        (_off("fixed", 4000), "leaves something to pay"),
        (_off("coupon", 10), "Choose a percent or an amount off"),
    ],
)
def test_discounts_that_cannot_be_given(asked, says):
    assert says in discount_refusal(asked=asked, list_minor=3000, currency="usd")


def test_an_amount_off_stripe_would_not_take_is_refused():
    # Stripe takes BHD in multiples of 10 fils.
    assert "not an amount Stripe takes" in discount_refusal(
        asked=_off("fixed", 105), list_minor=5000, currency="bhd"
    )


def _entries(member):
    return list(
        LedgerEntry.objects.filter(member=member)
        .order_by("pk")
        .values_list("kind", "method", "amount_minor")
    )


def test_a_cash_sale_with_a_discount_records_what_was_paid_and_why(member, acrylic, cashier):
    sale = desk.material_sell(
        member=member,
        material=acrylic,
        quantity=2,
        method="cash",
        actor=cashier,
        discount=_off("percent", 10, reason="Volunteer night"),
    )
    assert _entries(member) == [("material", "cash", 2160)]
    entry = LedgerEntry.objects.get(member=member)
    assert entry.cause == sale and "(list $24.00, 10 % off: Volunteer night)" in entry.memo
    discount = entry.discount
    assert (discount.list_minor, discount.discount_minor, discount.reason, discount.granted_by) == (
        2400,
        240,
        "Volunteer night",
        cashier,
    )
    acrylic.refresh_from_db()
    assert acrylic.stock == 3  # the stock goes down all the same


def test_a_discount_is_never_changed_or_deleted(member, acrylic, cashier):
    desk.material_sell(
        member=member,
        material=acrylic,
        quantity=1,
        method="cash",
        actor=cashier,
        discount=_off("fixed", 200),
    )
    discount = Discount.objects.get()
    discount.reason = "something else"
    with pytest.raises(LedgerImmutable):
        discount.save()
    with pytest.raises(LedgerImmutable):
        Discount.objects.update(reason="x")
    with pytest.raises(LedgerImmutable):
        Discount.objects.all().delete()


def test_a_discounted_sale_from_credits_spends_the_discounted_price(member, acrylic, cashier):
    wallet.credits_buy_at_desk(member=member, amount_minor=1000, currency="usd", actor=cashier)
    with pytest.raises(wallet.SaleRefused, match="Not enough credits"):
        desk.material_sell(
            member=member, material=acrylic, quantity=1, method="credits", actor=cashier
        )
    desk.material_sell(
        member=member,
        material=acrylic,
        quantity=1,
        method="credits",
        actor=cashier,
        discount=_off("fixed", 200),
    )
    assert _entries(member)[-1] == ("material", "credits", 1000)


def test_a_discount_on_the_card_on_file_or_a_bad_one_sells_nothing(stripe_api, acrylic, cashier):
    holder = StripeMembershipFactory().member
    with pytest.raises(LedgerRefused, match="promotion codes"):
        desk.material_sell(
            member=holder,
            material=acrylic,
            quantity=1,
            method="stripe",
            actor=cashier,
            discount=_off("percent", 10),
        )
    with pytest.raises(LedgerRefused, match="leaves something to pay"):
        desk.material_sell(
            member=holder,
            material=acrylic,
            quantity=1,
            method="cash",
            actor=cashier,
            discount=_off("fixed", 1200),
        )
    acrylic.refresh_from_db()
    assert acrylic.stock == 5 and not MaterialSale.objects.exists()
    assert stripe_api.calls("post", "/v1/payment_intents") == []
    assert not LedgerEntry.objects.exists() and not Discount.objects.exists()


def test_a_class_fee_taken_in_cash_less_a_discount(member, cashier):

    cert = CertificationFactory(name="Laser", class_fee_minor=3000, class_fee_currency="usd")
    enrollment = EnrollmentFactory(
        member=member,
        session=ClassSessionFactory(certification=cert),
        fee_minor=3000,
        fee_currency="usd",
        fee_state=FeeState.DUE,
    )
    entry = fees.class_fee_record_cash(
        enrollment=enrollment, actor=cashier, discount=_off("fixed", 500, reason="Student")
    )
    assert (entry.kind, entry.method, entry.amount_minor) == ("class_fee", "cash", 2500)
    assert entry.discount.list_minor == 3000
    enrollment.refresh_from_db()
    assert enrollment.fee_state == FeeState.PAID


def test_staff_give_a_discount_from_the_members_page(client, member, acrylic, cashier):
    client.force_login(cashier)
    page = client.get(reverse("staff_member_detail", args=[member.pk])).content.decode()
    token = re.search(
        r'action="/staff/members/\d+/sales/">.*?name="form_token" value="([^"]+)"', page, re.S
    ).group(1)
    sale = {"form_token": token, "material": acrylic.pk, "quantity": 1, "method": "cash"}
    refused = client.post(
        reverse("staff_material_sell", args=[member.pk]),
        {**sale, "discount_kind": "fixed", "discount_value": "2.00"},
    )
    assert refused.status_code == 400 and not LedgerEntry.objects.exists()  # no reason given
    client.post(
        reverse("staff_material_sell", args=[member.pk]),
        {**sale, "discount_kind": "fixed", "discount_value": "2.00", "discount_reason": "Scrap"},
    )
    assert _entries(member) == [("material", "cash", 1000)]


def test_someone_who_may_not_take_payments_gives_no_discount(member, db):
    with pytest.raises(LedgerRefused, match="Only staff who may take payments"):
        discount_price(
            asked=_off("percent", 10), list_minor=1000, currency="usd", actor=UserFactory()
        )
