"""Selling materials at the desk: stock and payment together, cash, credits or the card on file."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from membership.billing import desk, selectors, wallet
from membership.billing.wallet import SaleRefused
from membership.models import LedgerEntry, Material, MaterialSale
from tests.factories.membership import StripeMembershipFactory
from tests.membership import stripe_support as s


@pytest.fixture
def acrylic(db):
    return Material.objects.create(
        name="Acrylic 3 mm", unit="sheet", price_minor=1200, stock=5, low_stock_threshold=2
    )


@pytest.fixture
def cashier(staff_user):
    from membership import roles  # noqa: F401  (staff have record_payment)

    assert staff_user.has_perm("membership.record_payment")
    return staff_user


def _ledger(member):
    return list(
        LedgerEntry.objects.filter(member=member)
        .order_by("pk")
        .values_list("kind", "method", "amount_minor")
    )


def test_a_cash_sale_takes_the_stock_and_records_the_money(member, acrylic, cashier):
    sale = desk.material_sell(
        member=member, material=acrylic, quantity=2, method="cash", actor=cashier
    )
    acrylic.refresh_from_db()
    assert acrylic.stock == 3
    assert (sale.total_minor, sale.state) == (2400, "paid")
    assert _ledger(member) == [("material", "cash", 2400)]
    assert LedgerEntry.objects.get(member=member).cause == sale


@pytest.mark.parametrize(
    ("quantity", "says"),
    [
        (6, "Only 5 sheet of Acrylic 3 mm in stock; 6 asked for"),
        (0, "at least one"),
        (-1, "at least one"),
        (1.5, "whole number"),
    ],
)
def test_more_than_in_stock_or_a_bad_quantity_sells_nothing(
    member, acrylic, cashier, quantity, says
):
    with pytest.raises(SaleRefused, match=says):
        desk.material_sell(
            member=member, material=acrylic, quantity=quantity, method="cash", actor=cashier
        )
    acrylic.refresh_from_db()
    assert acrylic.stock == 5
    assert not MaterialSale.objects.exists() and _ledger(member) == []


def test_the_database_refuses_negative_stock(acrylic):
    with pytest.raises(IntegrityError), transaction.atomic():
        Material.objects.filter(pk=acrylic.pk).update(stock=-1)


def test_credits_pay_first_and_never_go_below_zero(member, acrylic, cashier):
    wallet.credits_buy_at_desk(member=member, amount_minor=2000, currency="usd", actor=cashier)
    desk.material_sell(member=member, material=acrylic, quantity=1, method="credits", actor=cashier)
    assert selectors.member_credit_balance(member, "usd") == 800
    with pytest.raises(SaleRefused, match=r"Not enough credits: \$8.00 left, \$12.00 needed"):
        desk.material_sell(
            member=member, material=acrylic, quantity=1, method="credits", actor=cashier
        )
    acrylic.refresh_from_db()
    assert acrylic.stock == 4  # the refused sale gave its sheet back
    assert _ledger(member) == [("credit_purchase", "cash", 2000), ("material", "credits", 1200)]


def test_the_low_stock_email_goes_once_through_the_task_runner(
    member, acrylic, cashier, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        desk.material_sell(
            member=member, material=acrylic, quantity=3, method="cash", actor=cashier
        )
        desk.material_sell(
            member=member, material=acrylic, quantity=1, method="cash", actor=cashier
        )
    (email,) = mailoutbox
    assert email.subject.endswith("Low stock: Acrylic 3 mm")
    assert "down to 1 sheet" in email.body  # read when it is sent and cashier.email in email.to
    desk.material_restock(material=acrylic, added=10, actor=cashier)
    acrylic.refresh_from_db()
    assert (acrylic.stock, acrylic.low_stock_alerted_at) == (11, None)


def test_the_card_on_file_is_charged_off_session(stripe_api, acrylic, cashier):
    member = StripeMembershipFactory().member
    sale = desk.material_sell(
        member=member, material=acrylic, quantity=1, method="stripe", actor=cashier
    )
    (call,) = stripe_api.calls("post", "/v1/payment_intents")
    assert call.params == {
        "amount": "1200",
        "currency": "usd",
        "customer": member.membership.stripe_customer_id,
        "payment_method": "pm_1TgCard",
        "off_session": "true",
        "confirm": "true",
        "description": "1 × Acrylic 3 mm",  # noqa: RUF001
        "metadata[toolgate_kind]": "material_sale",
        "metadata[toolgate_ref]": str(sale.pk),
    }
    assert call.headers["Idempotency-Key"] == f"toolgate-sale-{sale.pk}"
    entry = LedgerEntry.objects.get(member=member)
    assert (entry.method, entry.stripe_object_id) == ("stripe", call.answer["id"])


def test_a_declined_card_sells_nothing(stripe_api, acrylic, cashier):
    member = StripeMembershipFactory().member
    stripe_api.card_outcome = "card_declined"
    with pytest.raises(SaleRefused, match="declined"):
        desk.material_sell(
            member=member, material=acrylic, quantity=1, method="stripe", actor=cashier
        )
    acrylic.refresh_from_db()
    assert acrylic.stock == 5 and not MaterialSale.objects.exists()


def test_sca_ends_in_a_pay_by_link_paid_once(
    stripe_api, deliver, acrylic, cashier, mailoutbox, django_capture_on_commit_callbacks
):
    member = StripeMembershipFactory().member
    stripe_api.card_outcome = "authentication_required"
    with django_capture_on_commit_callbacks(execute=True):
        sale = desk.material_sell(
            member=member, material=acrylic, quantity=2, method="stripe", actor=cashier
        )
    sale.refresh_from_db()
    assert sale.state == "awaiting" and sale.pay_url.startswith("https://checkout.stripe.com/")
    (email,) = mailoutbox
    assert sale.pay_url in email.body and "$24.00" in email.body
    assert _ledger(member) == []  # nothing moved yet
    (link,) = stripe_api.calls("post", "/v1/checkout/sessions")
    session = s.payment_session_object(link)
    assert deliver(s.event("checkout.session.completed", session)).json()["outcome"] == "applied"
    # The same session again under another event id (Stripe's events of one session carry its
    # one payment intent): nothing more.
    again = s.event("checkout.session.completed", session)
    assert deliver(again).json()["outcome"] == "unchanged"
    sale.refresh_from_db()
    assert sale.state == "paid"
    assert _ledger(member) == [("material", "stripe", 2400)]


def test_a_member_without_a_card_on_file_is_told_so(stripe_api, member, acrylic, cashier):
    with pytest.raises(SaleRefused, match="no card on file"):
        desk.material_sell(
            member=member, material=acrylic, quantity=1, method="stripe", actor=cashier
        )


def test_a_won_sale(member, cashier, settings):
    settings.SPACE_LOCALE = "ko_KR"
    plywood = Material.objects.create(
        name="합판", unit="장", price_minor=15000, currency="krw", stock=3
    )
    desk.material_sell(member=member, material=plywood, quantity=2, method="cash", actor=cashier)
    assert str(LedgerEntry.objects.get(member=member)) == "Material sale ₩30,000"


@pytest.mark.parametrize(
    ("outcome", "told", "state", "ledger"),
    [
        (
            "succeeded",
            "Sold: 2 × Acrylic 3 mm, $24.00, paid by card.",  # noqa: RUF001
            "paid",
            [("material", "stripe", 2400)],
        ),
        (
            "authentication_required",
            "Awaiting payment (2 × Acrylic 3 mm, $24.00): the card needs the member's "  # noqa: RUF001
            "confirmation; a pay-by link was emailed to {email}. Nothing is in the ledger "
            "until they pay.",
            "awaiting",
            [],
        ),
        (
            "processing",
            "Awaiting payment (2 × Acrylic 3 mm, $24.00): the card payment is still "  # noqa: RUF001
            "processing at the bank.",
            "awaiting",
            [],
        ),
    ],
)
def test_the_desk_is_told_what_a_card_sale_came_to(
    stripe_api, client, acrylic, cashier, outcome, told, state, ledger
):
    """'Sold.' only for a sale that is paid: one waiting for the member's card says so and
    how it will be paid; the stock is counted out either way, the ledger waits for Stripe."""
    import re

    from django.urls import reverse

    member = StripeMembershipFactory().member
    stripe_api.card_outcome = outcome
    client.force_login(cashier)
    page = client.get(reverse("staff_member_detail", args=[member.pk])).content.decode()
    token = re.search(
        r'action="/staff/members/\d+/sales/">.*?name="form_token" value="([^"]+)"', page, re.S
    ).group(1)
    response = client.post(
        reverse("staff_material_sell", args=[member.pk]),
        {"form_token": token, "material": acrylic.pk, "quantity": 2, "method": "stripe"},
        follow=True,
    )
    said = [str(m) for m in response.context["messages"]]
    assert len(said) == 1 and said[0].startswith(told.format(email=member.user.email))
    (sale,) = MaterialSale.objects.filter(member=member)
    acrylic.refresh_from_db()
    assert (sale.state, acrylic.stock, _ledger(member)) == (state, 3, ledger)
