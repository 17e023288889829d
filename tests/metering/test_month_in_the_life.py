"""A member's October, with frozen time, against a faked Stripe: the membership, two classes (one
cancelled and refunded), 14 hours of laser time with 10 included, a credit pack bought and spent,
materials sold; then November's invoice carries the machine time and is paid. The ledger, the
invoice item and the member's own pages agree to the cent, and in won to the won."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from membership import roles
from membership.billing import desk
from membership.billing.selectors import member_balances
from membership.billing.wallet import credit_pack_checkout
from membership.models import CreditPack, LedgerEntry, Material, Payment
from metering.models import UsageCharge
from metering.services import usage_charges_post, usage_invoice_items_push
from tests.factories.access import GateDeviceFactory, UsageSessionFactory
from tests.factories.equipment import IncludedHoursFactory, MachineRateFactory
from tests.factories.locations import default_location_in
from tests.factories.membership import PlanFactory, StripeMembershipFactory, UserFactory
from tests.factories.training import CertificationFactory, ClassSessionFactory
from tests.membership import stripe_support as s
from training import fees

LA = ZoneInfo("America/Los_Angeles")


def at(day: int, hour: int = 10, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=LA)


@dataclass(frozen=True)
class Prices:
    """A currency's prices; won are the dollar prices' cents times ten (100 USD ~ 100,000 KRW)."""

    currency: str
    locale: str
    scale: int

    def __call__(self, cents: int) -> int:
        return cents * self.scale

    def shown(self, cents: int) -> str:
        if self.currency == "krw":
            return f"₩{cents * self.scale:,}"
        return f"${cents / 100:,.2f}"


USD = Prices("usd", "en_US", 1)
KRW = Prices("krw", "ko_KR", 10)


def _pay_checkout(stripe_api, deliver) -> None:
    """The member pays the Checkout session Toolgate opened last; Stripe tells us."""
    session = s.payment_session_object(stripe_api.calls("post", "/v1/checkout/sessions")[-1])
    assert deliver(s.event("checkout.session.completed", session)).status_code == 200


def _invoice_paid(stripe_api, deliver, subscription, prices, *, items=()) -> dict:
    invoice = s.invoice_with_items(stripe_api, subscription=subscription, items=list(items))
    membership_line = invoice["lines"]["data"][0]
    membership_line.update(amount=prices(10000), currency=prices.currency)
    total = sum(line["amount"] for line in invoice["lines"]["data"])
    invoice.update(currency=prices.currency, amount_paid=total, amount_due=total, total=total)
    assert deliver(s.event("invoice.paid", invoice)).status_code == 200
    return invoice


@pytest.mark.parametrize("prices", [USD, KRW], ids=["usd", "krw"])
def test_a_month_in_the_life(
    prices, stripe_api, deliver, client, settings, time_machine, django_capture_on_commit_callbacks
):
    settings.SPACE_LOCALE = prices.locale
    settings.SPACE_CURRENCY = prices.currency
    time_machine.move_to(at(1, 9), tick=False)
    default_location_in(LA)
    plan = PlanFactory(
        name=f"Monthly ({prices.currency})",
        monthly_price_cents=prices(10000),
        currency=prices.currency,
        stripe_price_id="price_1TgMonthly",
    )
    membership = StripeMembershipFactory(plan=plan)
    member = membership.member
    cashier = UserFactory(role=roles.STAFF)
    laser = MachineRateFactory(
        machine__name="Laser cutter",
        machine__slug="laser",
        per_minute_minor=prices(50),
        minimum_minor=prices(500),
        currency=prices.currency,
    ).machine
    IncludedHoursFactory(plan=plan, machine=laser, hours=10)
    gate = GateDeviceFactory(machine=laser)

    # October 1: the month's membership invoice is paid.
    subscription = s.subscription_held(stripe_api, membership)
    _invoice_paid(stripe_api, deliver, subscription, prices)

    # October 2: two classes, each paid through Checkout.
    time_machine.move_to(at(2), tick=False)
    enrollments = []
    for name, fee, day in (("Laser cutter", 7500, 20), ("CNC router", 3000, 25)):
        certification = CertificationFactory(
            name=name, class_fee_minor=prices(fee), class_fee_currency=prices.currency
        )
        session = ClassSessionFactory(certification=certification, start=at(day, 18))
        enrollment = fees.enrollment_create_paid(member=member, session=session)
        fees.class_fee_checkout(enrollment=enrollment, actor=member.user)
        _pay_checkout(stripe_api, deliver)
        enrollments.append(enrollment)

    # October 5: the CNC class is cancelled in time, refunded in full through Stripe.
    time_machine.move_to(at(5), tick=False)
    with django_capture_on_commit_callbacks(execute=True):  # the refund goes at the commit
        _, refunded = fees.enrollment_cancel_refunding(enrollment=enrollments[1], actor=member.user)
    assert refunded == prices(3000)
    (refund_call,) = stripe_api.calls("post", "/v1/refunds")
    assert refund_call.params["amount"] == str(prices(3000))

    # October 6: a credit pack bought online, then spent at the desk, and a sheet on the card.
    time_machine.move_to(at(6), tick=False)
    pack = CreditPack.objects.create(
        name="Fifty", amount_minor=prices(5000), currency=prices.currency
    )
    credit_pack_checkout(member=member, pack=pack)
    _pay_checkout(stripe_api, deliver)
    acrylic = Material.objects.create(
        name="Acrylic 3 mm",
        unit="sheet",
        price_minor=prices(1200),
        currency=prices.currency,
        stock=10,
    )
    with django_capture_on_commit_callbacks(execute=True):
        desk.material_sell(
            member=member, material=acrylic, quantity=2, method="credits", actor=cashier
        )
        desk.material_sell(
            member=member, material=acrylic, quantity=1, method="stripe", actor=cashier
        )

    # Seven two-hour laser sessions: 14 hours, 10 of them included.
    for day in (3, 8, 10, 13, 15, 17, 22):
        UsageSessionFactory(
            device=gate,
            member=member,
            grant_reason="allowed_booking",
            started_at=at(day, 14),
            grant_end=at(day, 16),
            ended_at=at(day, 16),
        )

    # October 31, evening: the member's page shows the month's cost as it stands.
    time_machine.move_to(at(31, 20), tick=False)
    client.force_login(member.user)  # a session from October 1 would have run out
    page = client.get(reverse("membership_billing")).content.decode()
    machine_time = page[page.index("data-machine-usage") :]
    assert f'data-total="{prices.currency}">{prices.shown(12000)}' in machine_time
    assert "240 min" in machine_time

    # November 1: the month is posted, and sent as one invoice item.
    time_machine.move_to(at(1, 1, month=11), tick=False)
    assert usage_charges_post(now=at(1, 1, month=11)) == 2
    assert usage_invoice_items_push() == 1
    (item,) = stripe_api.invoice_items.values()
    usage = LedgerEntry.objects.filter(member=member, kind="usage")
    assert item["amount"] == sum(e.amount_minor for e in usage) == prices(12000)
    assert item["amount"] == sum(UsageCharge.objects.values_list("amount_minor", flat=True))
    assert item["currency"] == prices.currency
    (balance,) = member_balances(member)
    assert balance.on_account == prices(12000)

    # November's invoice: the membership and the machine time, paid.
    time_machine.move_to(at(1, 3, month=11), tick=False)
    invoice = _invoice_paid(stripe_api, deliver, subscription, prices, items=[item])

    # The ledger, entry by entry and summed.
    rows = sorted(
        LedgerEntry.objects.filter(member=member).values_list("kind", "method", "amount_minor")
    )
    assert rows == sorted(
        [
            ("membership", "stripe", prices(10000)),
            ("class_fee", "stripe", prices(7500)),
            ("class_fee", "stripe", prices(3000)),
            ("refund", "stripe", -prices(3000)),
            ("credit_purchase", "stripe", prices(5000)),
            ("material", "credits", prices(2400)),
            ("material", "stripe", prices(1200)),
            ("usage", "account", prices(6000)),
            ("usage", "account", prices(6000)),
            ("membership", "stripe", prices(22000)),
            ("account_settled", "account", -prices(12000)),
        ]
    )
    assert {e.currency for e in LedgerEntry.objects.filter(member=member)} == {prices.currency}
    (balance,) = member_balances(member)
    paid = 10000 + 7500 + 3000 - 3000 + 5000 + 1200 + 22000
    assert (balance.paid, balance.credits, balance.on_account) == (
        prices(paid),
        prices(2600),
        0,
    )

    # The member's page shows the same figures.
    client.force_login(member.user)
    page = client.get(reverse("membership_billing")).content.decode()
    balances = page[page.index("data-balances") : page.index("data-ledger")]
    assert f"Paid: <strong>{prices.shown(paid)}</strong>" in balances
    assert f"<strong data-credits>{prices.shown(2600)}</strong>" in balances
    assert "On account" not in balances

    # And November's receipt splits the invoice as Stripe billed it.
    payment = Payment.objects.get(stripe_invoice_id=invoice["id"])
    entry = LedgerEntry.objects.get(kind="membership", cause_id=payment.pk)
    receipt = client.get(reverse("billing_receipt", args=[entry.pk])).content.decode()
    assert f'data-amount="{prices(10000)}">{prices.shown(10000)}' in receipt
    assert f'data-amount="{prices(12000)}">{prices.shown(12000)}' in receipt
    assert f'data-total="{prices(22000)}">{prices.shown(22000)}' in receipt
    assert "Laser cutter, October 2026" in receipt
