"""Selling day passes: at the desk (cash, credits, the card on file) and online through Stripe
Checkout, each payment one ledger entry of kind day pass; webhooks applied once."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from equipment.daypasses import services
from equipment.daypasses.services import DayPassRefused
from equipment.models import DayPass, DayPassState
from membership.billing import wallet
from membership.billing.discounts import DiscountAsked
from membership.models import LedgerEntry, StripeEvent
from tests.factories.daypasses import DayPassProductFactory
from tests.factories.equipment import MachineFactory
from tests.factories.locations import LocationFactory
from tests.factories.membership import MemberFactory, StripeMembershipFactory, UserFactory
from tests.membership import stripe_support as s

# 20:00 on 3 December in Los Angeles; already the 4th in Seoul.
NOW = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)
TODAY = date(2026, 12, 3)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def product(db):
    la = LocationFactory(name="Los Angeles", slug="la", time_zone="America/Los_Angeles")
    laser = MachineFactory(name="Laser LA", slug="laser-la", location=la)
    return DayPassProductFactory(name="Laser day", price_minor=4000, machines=[laser])


@pytest.fixture
def cashier(staff_user):
    assert staff_user.has_perm("membership.record_payment")
    return staff_user


def _ledger(member):
    return list(
        LedgerEntry.objects.filter(member=member)
        .order_by("pk")
        .values_list("kind", "method", "amount_minor", "currency")
    )


def test_a_pass_sold_for_cash_is_paid_and_in_the_ledger(member, product, cashier):
    day_pass = services.day_pass_sell_at_desk(
        holder=member, product=product, day=TODAY, method="cash", actor=cashier
    )
    assert (day_pass.state, day_pass.day, day_pass.sold_by) == (DayPassState.PAID, TODAY, cashier)
    assert _ledger(member) == [("day_pass", "cash", 4000, "usd")]
    entry = LedgerEntry.objects.get(member=member)
    assert (entry.cause, entry.recorded_by) == (day_pass, cashier)
    assert entry.memo == "Day pass: Laser day on 2026-12-03"


def test_a_pass_sold_for_cash_less_a_staff_discount(member, product, cashier):
    services.day_pass_sell_at_desk(
        holder=member,
        product=product,
        day=TODAY,
        method="cash",
        actor=cashier,
        discount=DiscountAsked(kind="percent", value=25, reason="Open day"),
    )
    assert _ledger(member) == [("day_pass", "cash", 3000, "usd")]
    assert LedgerEntry.objects.get().discount.discount_minor == 1000


def test_a_pass_bought_twice_for_the_same_day_is_refused_and_charged_once(member, product, cashier):
    services.day_pass_sell_at_desk(
        holder=member, product=product, day=TODAY, method="cash", actor=cashier
    )
    with pytest.raises(DayPassRefused, match="already has Laser day for 2026-12-03"):
        services.day_pass_sell_at_desk(
            holder=member, product=product, day=TODAY, method="cash", actor=cashier
        )
    assert DayPass.objects.count() == 1 and len(_ledger(member)) == 1
    # Another day is another pass.
    services.day_pass_sell_at_desk(
        holder=member, product=product, day=TODAY + timedelta(days=1), method="cash", actor=cashier
    )
    assert DayPass.objects.count() == 2


@pytest.mark.parametrize(
    ("day", "says"),
    [
        (TODAY - timedelta(days=1), "That day is over"),
        (TODAY + timedelta(days=31), "at most 30 days ahead"),
    ],
)
def test_a_day_that_is_over_or_too_far_ahead_is_refused(member, product, cashier, day, says):
    with pytest.raises(DayPassRefused, match=says):
        services.day_pass_sell_at_desk(
            holder=member, product=product, day=day, method="cash", actor=cashier
        )
    assert not DayPass.objects.exists() and _ledger(member) == []


def test_today_is_read_in_the_zone_of_the_passes_location(member, cashier):
    seoul = LocationFactory(name="Seoul", slug="seoul", time_zone="Asia/Seoul")
    in_seoul = DayPassProductFactory(name="Seoul day", locations=[seoul])
    with pytest.raises(DayPassRefused, match="That day is over"):
        services.day_pass_sell_at_desk(
            holder=member, product=in_seoul, day=TODAY, method="cash", actor=cashier
        )
    services.day_pass_sell_at_desk(
        holder=member, product=in_seoul, day=TODAY + timedelta(days=1), method="cash", actor=cashier
    )


def test_a_product_no_longer_sold_or_a_seller_without_the_permission_sells_nothing(member, product):
    with pytest.raises(DayPassRefused, match="Only staff who may take payments"):
        services.day_pass_sell_at_desk(
            holder=member, product=product, day=TODAY, method="cash", actor=UserFactory()
        )
    product.active = False
    product.save()
    staff = UserFactory(is_superuser=True)
    with pytest.raises(DayPassRefused, match="no longer sold"):
        services.day_pass_sell_at_desk(
            holder=member, product=product, day=TODAY, method="cash", actor=staff
        )
    assert not DayPass.objects.exists()


def test_a_pass_paid_from_credits_never_takes_them_below_zero(member, product, cashier):
    with pytest.raises(wallet.SaleRefused, match="Not enough credits"):
        services.day_pass_sell_at_desk(
            holder=member, product=product, day=TODAY, method="credits", actor=cashier
        )
    assert not DayPass.objects.exists()
    wallet.credits_buy_at_desk(member=member, amount_minor=5000, currency="usd", actor=cashier)
    services.day_pass_sell_at_desk(
        holder=member, product=product, day=TODAY, method="credits", actor=cashier
    )
    assert _ledger(member)[-1] == ("day_pass", "credits", 4000, "usd")


def test_the_card_on_file_is_charged_off_session(stripe_api, product, cashier):
    holder = StripeMembershipFactory().member
    day_pass = services.day_pass_sell_at_desk(
        holder=holder, product=product, day=TODAY, method="stripe", actor=cashier
    )
    (call,) = stripe_api.calls("post", "/v1/payment_intents")
    assert call.params["amount"] == "4000" and call.params["off_session"] == "true"
    assert call.params["metadata[toolgate_kind]"] == "day_pass"
    assert call.headers["Idempotency-Key"] == f"toolgate-day-pass-{day_pass.pk}"
    entry = LedgerEntry.objects.get(member=holder)
    assert (entry.kind, entry.method, entry.stripe_object_id) == (
        "day_pass",
        "stripe",
        call.answer["id"],
    )


@pytest.mark.parametrize("succeeds", [True, False])
def test_a_card_still_processing_opens_the_pass_only_once_stripe_says_paid(
    stripe_api, deliver, product, cashier, succeeds
):
    holder = StripeMembershipFactory().member
    stripe_api.card_outcome = "processing"
    day_pass = services.day_pass_sell_at_desk(
        holder=holder, product=product, day=TODAY, method="stripe", actor=cashier
    )
    assert day_pass.state == DayPassState.AWAITING and _ledger(holder) == []
    (call,) = stripe_api.calls("post", "/v1/payment_intents")
    kind = "payment_intent.succeeded" if succeeds else "payment_intent.payment_failed"
    ended = s.event(kind, s.payment_intent_ended(stripe_api, call.answer["id"], succeeded=succeeds))

    assert deliver(ended).json()["outcome"] == "applied"
    again = s.event(kind, s.payment_intent_ended(stripe_api, call.answer["id"], succeeded=succeeds))
    assert deliver(again).json()["outcome"] == "unchanged"
    day_pass.refresh_from_db()
    if succeeds:
        assert day_pass.state == DayPassState.PAID
        assert [(e.method, e.amount_minor) for e in LedgerEntry.objects.filter(member=holder)] == [
            ("stripe", 4000)
        ]
    else:
        assert day_pass.state == DayPassState.EXPIRED and _ledger(holder) == []


@pytest.mark.parametrize(
    ("outcome", "says"),
    [("card_declined", "declined"), ("authentication_required", "confirm this card payment")],
)
def test_a_card_that_does_not_pay_sells_nothing(stripe_api, product, cashier, outcome, says):
    holder = StripeMembershipFactory().member
    stripe_api.card_outcome = outcome
    with pytest.raises(DayPassRefused, match=says):
        services.day_pass_sell_at_desk(
            holder=holder, product=product, day=TODAY, method="stripe", actor=cashier
        )
    assert not DayPass.objects.exists() and _ledger(holder) == []


# Online: Stripe Checkout in payment mode, through membership.billing.payments.


def _bought_online(holder, product, day=TODAY):
    url = services.day_pass_checkout(holder=holder, product=product, day=day)
    assert url.startswith("https://checkout.stripe.com/")
    return DayPass.objects.exclude(state=DayPassState.EXPIRED).get(
        holder=holder, product=product, day=day
    )


def test_buying_online_opens_checkout_in_payment_mode(stripe_api, product):
    holder = MemberFactory()
    day_pass = _bought_online(holder, product)
    assert day_pass.state == DayPassState.AWAITING
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    assert call.params["mode"] == "payment"
    assert call.params["line_items[0][price_data][unit_amount]"] == "4000"
    assert call.params["line_items[0][price_data][product_data][name]"] == (
        "Day pass: Laser day on 2026-12-03"
    )
    assert call.params["metadata[toolgate_kind]"] == "day_pass"
    assert call.params["metadata[toolgate_ref]"] == str(day_pass.pk)
    assert call.params["allow_promotion_codes"] == "true"
    assert day_pass.checkout_session_id == call.answer["id"]


def test_manual_billing_sells_passes_at_the_desk_only(db, product):
    with pytest.raises(DayPassRefused, match="front desk"):
        services.day_pass_checkout(holder=MemberFactory(), product=product, day=TODAY)


def test_a_past_day_cannot_be_bought_online(stripe_api, product):
    with pytest.raises(DayPassRefused, match="That day is over"):
        services.day_pass_checkout(
            holder=MemberFactory(), product=product, day=TODAY - timedelta(days=1)
        )
    assert stripe_api.calls("post", "/v1/checkout/sessions") == []


def test_a_completed_checkout_pays_the_pass_once(stripe_api, deliver, product):
    holder = MemberFactory()
    day_pass = _bought_online(holder, product)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    session = s.payment_session_object(call)
    completed = s.event("checkout.session.completed", session)
    assert deliver(completed).json()["outcome"] == "applied"
    assert deliver(completed).status_code == 200  # the same event again
    # A second event for the same payment (Stripe resends under a new id).
    again = s.event("checkout.session.completed", session)
    assert deliver(again).json()["outcome"] == "unchanged"
    day_pass.refresh_from_db()
    assert day_pass.state == DayPassState.PAID
    assert _ledger(holder) == [("day_pass", "stripe", 4000, "usd")]
    assert LedgerEntry.objects.get().stripe_object_id == session["payment_intent"]


def test_a_forged_completion_is_refused_and_changes_nothing(stripe_api, deliver, product):
    holder = MemberFactory()
    day_pass = _bought_online(holder, product)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    completed = s.event("checkout.session.completed", s.payment_session_object(call))
    assert deliver(completed, signature=None).status_code == 400
    assert deliver(completed, secret="whsec_attacker").status_code == 400
    day_pass.refresh_from_db()
    assert day_pass.state == DayPassState.AWAITING
    assert _ledger(holder) == [] and not StripeEvent.objects.exists()


def test_a_completion_in_another_currency_or_for_more_is_refused(stripe_api, deliver, product):
    holder = MemberFactory()
    _bought_online(holder, product)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    session = s.payment_session_object(call)
    euros = s.event("checkout.session.completed", dict(session, currency="eur"))
    more = s.event("checkout.session.completed", dict(session, amount_total=9000))
    assert deliver(euros).status_code == deliver(more).status_code == 400
    assert _ledger(holder) == []


def test_an_expired_checkout_frees_the_day_to_buy_again(stripe_api, deliver, product):
    holder = MemberFactory()
    day_pass = _bought_online(holder, product)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    expired = s.payment_session_object(call, status="expired")
    assert deliver(s.event("checkout.session.expired", expired)).json()["outcome"] == "applied"
    day_pass.refresh_from_db()
    assert day_pass.state == DayPassState.EXPIRED
    again = _bought_online(holder, product)
    assert again.pk != day_pass.pk and again.state == DayPassState.AWAITING


def test_a_pass_paid_through_two_checkouts_is_refunded_the_second_time(
    stripe_api, deliver, product
):
    holder = MemberFactory()
    day_pass = _bought_online(holder, product)
    assert _bought_online(holder, product).pk == day_pass.pk  # the unpaid pass, paid anew
    first, second = stripe_api.calls("post", "/v1/checkout/sessions")
    deliver(s.event("checkout.session.completed", s.payment_session_object(second)))
    stale = s.payment_session_object(first)
    assert (
        deliver(s.event("checkout.session.expired", dict(stale, status="expired"))).json()[
            "outcome"
        ]
        == "unchanged"
    )
    deliver(s.event("checkout.session.completed", stale))
    (refund,) = stripe_api.calls("post", "/v1/refunds")
    assert refund.params["payment_intent"] == stale["payment_intent"]
    assert _ledger(holder) == [
        ("day_pass", "stripe", 4000, "usd"),
        ("day_pass", "stripe", 4000, "usd"),
        ("refund", "stripe", -4000, "usd"),
    ]
    day_pass.refresh_from_db()
    assert day_pass.state == DayPassState.PAID


def test_a_session_for_an_unknown_pass_is_refused(stripe_api, deliver, product):
    _bought_online(MemberFactory(), product)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    session = s.payment_session_object(call)
    session["metadata"] = {"toolgate_kind": "day_pass", "toolgate_ref": "999999"}
    assert deliver(s.event("checkout.session.completed", session)).status_code == 400
    assert not LedgerEntry.objects.exists()


# The pages: the member's billing page buys, the member's staff page sells.


def _token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def test_a_member_buys_a_pass_from_the_billing_page(stripe_api, client, product):
    holder = MemberFactory()
    client.force_login(holder.user)
    page = client.get(reverse("membership_billing")).content.decode()
    assert f'data-day-pass-product="{product.pk}"' in page and "Laser LA" in page
    response = client.post(
        reverse("equipment:day_pass_buy", args=[product.pk]),
        {"form_token": _token(page), "day": "2026-12-03"},
    )
    assert response["Location"].startswith("https://checkout.stripe.com/")
    assert DayPass.objects.get(holder=holder).state == DayPassState.AWAITING
    past = client.post(
        reverse("equipment:day_pass_buy", args=[product.pk]),
        {"form_token": _token(page), "day": "2026-12-01"},
        follow=True,
    )
    assert "That day is over" in past.content.decode()


def test_staff_sell_a_pass_from_the_members_page(client, member, product, cashier):
    client.force_login(cashier)
    page = client.get(reverse("staff_member_detail", args=[member.pk])).content.decode()
    assert "Sell a day pass" in page
    response = client.post(
        reverse("equipment:day_pass_sell", args=[member.pk]),
        {"form_token": _token(page), "product": product.pk, "day": "2026-12-03", "method": "cash"},
        follow=True,
    )
    assert "Laser day for 2026-12-03 sold." in response.content.decode()
    assert _ledger(member) == [("day_pass", "cash", 4000, "usd")]
    billing = client.get(reverse("staff_member_detail", args=[member.pk])).content.decode()
    assert "Thu 3 Dec 2026: Laser day · Paid" in billing


def test_someone_who_may_not_take_payments_cannot_sell_a_pass(client, member, product):
    client.force_login(UserFactory())
    response = client.post(
        reverse("equipment:day_pass_sell", args=[member.pk]),
        {"product": product.pk, "day": "2026-12-03", "method": "cash"},
    )
    assert response.status_code == 403 and not DayPass.objects.exists()


def _processing_at_the_desk(stripe_api, product, cashier):
    holder = StripeMembershipFactory().member
    stripe_api.card_outcome = "processing"
    day_pass = services.day_pass_sell_at_desk(
        holder=holder, product=product, day=TODAY, method="stripe", actor=cashier
    )
    (call,) = stripe_api.calls("post", "/v1/payment_intents")
    return holder, day_pass, call.answer["id"]


def test_a_desk_card_payment_that_succeeds_after_the_pass_was_bought_online_is_refunded(
    stripe_api, deliver, product, cashier
):
    """The desk's card payment was still processing; the holder bought the pass online
    meanwhile (the same waiting pass). When the card payment succeeds it goes back."""
    holder, day_pass, intent_id = _processing_at_the_desk(stripe_api, product, cashier)
    assert _bought_online(holder, product).pk == day_pass.pk
    (checkout,) = stripe_api.calls("post", "/v1/checkout/sessions")
    online = s.payment_session_object(checkout)
    assert deliver(s.event("checkout.session.completed", online)).json()["outcome"] == "applied"

    succeeded = s.event(
        "payment_intent.succeeded", s.payment_intent_ended(stripe_api, intent_id, succeeded=True)
    )
    assert deliver(succeeded).json()["outcome"] == "applied"
    (refund,) = stripe_api.calls("post", "/v1/refunds")
    assert (refund.params["payment_intent"], refund.params["amount"]) == (intent_id, "4000")
    assert _ledger(holder) == [
        ("day_pass", "stripe", 4000, "usd"),
        ("day_pass", "stripe", 4000, "usd"),
        ("refund", "stripe", -4000, "usd"),
    ]
    day_pass.refresh_from_db()
    assert day_pass.state == DayPassState.PAID  # still open on the payment it keeps


def test_a_desk_card_payment_that_succeeds_after_staff_cancelled_the_pass_is_refunded(
    stripe_api, deliver, product, cashier
):
    holder, day_pass, intent_id = _processing_at_the_desk(stripe_api, product, cashier)
    services.day_pass_cancel(day_pass=day_pass, actor=cashier, reason="Wrong day", refund=True)
    succeeded = s.event(
        "payment_intent.succeeded", s.payment_intent_ended(stripe_api, intent_id, succeeded=True)
    )
    assert deliver(succeeded).json()["outcome"] == "applied"
    assert [r.params["payment_intent"] for r in stripe_api.calls("post", "/v1/refunds")] == [
        intent_id
    ]
    assert sum(a for *_, a, _c in _ledger(holder)) == 0
    day_pass.refresh_from_db()
    assert day_pass.state == DayPassState.CANCELLED
