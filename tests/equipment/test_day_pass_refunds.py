"""A day pass whose payment is given back, or that staff cancel, opens nothing from then on: the
gate refuses it, a session running on the pass alone is switched off, and the day sells again."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from access.models import AccessSource, GateMessage
from access.policy import Reason
from access.services import access_decide
from equipment.daypasses import services
from equipment.daypasses.services import DayPassRefused
from equipment.models import DayPass, DayPassState
from membership.billing.ledger import ledger_reverse
from membership.models import LedgerEntry
from tests.factories.access import GateDeviceFactory
from tests.factories.bookings import BookingFactory
from tests.factories.daypasses import DayPassProductFactory
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.locations import LocationFactory
from tests.factories.membership import (
    BadgeFactory,
    MemberFactory,
    WaiverFactory,
    WaiverSignatureFactory,
    ready_member,
)
from tests.membership import stripe_support as s

# 20:00 on 3 December in Los Angeles.
NOW = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)
TODAY = date(2026, 12, 3)
H = timedelta(hours=1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def laser(db):
    la = LocationFactory(name="Los Angeles", slug="la", time_zone="America/Los_Angeles")
    machine = MachineFactory(name="Laser LA", slug="laser-la", location=la)
    machine.required_certification = certification("Laser cutter")
    machine.save(update_fields=["required_certification"])
    GateDeviceFactory(machine=machine)
    return machine


@pytest.fixture
def product(laser):
    return DayPassProductFactory(name="Laser day", price_minor=4000, machines=[laser])


@pytest.fixture
def cashier(staff_user):
    return staff_user


def _at_the_laser(member, laser):
    """`member` (waiver signed, certified, badged) booked the laser now and scanned in."""
    if not member.badges.exists():
        WaiverSignatureFactory(member=member, waiver=WaiverFactory())
        BadgeFactory(member=member)
    certify(member, laser.required_certification, granted_at=NOW - 30 * 24 * H)
    BookingFactory(machine=laser, member=member, start=NOW - H / 2, end=NOW + H)
    return _scan(member, laser)


def _scan(member, laser):
    return access_decide(
        badge_uid=member.badges.get().uid, machine=laser, source=AccessSource.WEB, at=NOW
    ).decision


def _switched_off(laser):
    return list(
        GateMessage.objects.filter(device__machine=laser, kind="command").values_list(
            "action", "reason"
        )
    )


def _refunds(member):
    return list(
        LedgerEntry.objects.filter(member=member, kind="refund").values_list(
            "method", "amount_minor"
        )
    )


def test_a_refund_on_stripe_ends_the_pass_once_and_switches_off_its_session(
    stripe_api, deliver, product, laser
):
    """charge.refunded for the pass's payment, signed as Stripe signs it and sent twice."""
    holder = MemberFactory()
    services.day_pass_checkout(holder=holder, product=product, day=TODAY)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    session = s.payment_session_object(call)
    deliver(s.event("checkout.session.completed", session))
    assert _at_the_laser(holder, laser).reason is Reason.ALLOWED_BOOKING

    intent = session["payment_intent"]
    s.refund_in_dashboard(stripe_api, payment_intent=intent, amount=4000)
    charge = s.charge_object(payment_intent=intent, amount=4000, amount_refunded=4000)
    refunded = s.event("charge.refunded", charge)
    assert deliver(refunded).json()["outcome"] == "applied"
    assert deliver(refunded).status_code == 200  # the same event again
    assert deliver(s.event("charge.refunded", charge)).json()["outcome"] == "unchanged"

    day_pass = DayPass.objects.get()
    assert day_pass.state == DayPassState.REFUNDED
    assert _refunds(holder) == [("stripe", -4000)]
    assert _switched_off(laser) == [("switch_off", "day_pass_ended")]
    assert _scan(holder, laser).reason is Reason.MEMBERSHIP_INACTIVE


def test_a_partial_refund_on_stripe_leaves_the_pass_open(stripe_api, deliver, product, laser):
    holder = MemberFactory()
    services.day_pass_checkout(holder=holder, product=product, day=TODAY)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    session = s.payment_session_object(call)
    deliver(s.event("checkout.session.completed", session))
    intent = session["payment_intent"]
    s.refund_in_dashboard(stripe_api, payment_intent=intent, amount=1000)
    charge = s.charge_object(payment_intent=intent, amount=4000, amount_refunded=1000)
    assert deliver(s.event("charge.refunded", charge)).json()["outcome"] == "applied"
    assert DayPass.objects.get().state == DayPassState.PAID
    assert _at_the_laser(holder, laser).reason is Reason.ALLOWED_BOOKING


def test_a_cash_pass_reversed_in_the_ledger_opens_nothing_and_the_day_sells_again(
    product, laser, cashier
):
    holder = MemberFactory()
    day_pass = services.day_pass_sell_at_desk(
        holder=holder, product=product, day=TODAY, method="cash", actor=cashier
    )
    assert _at_the_laser(holder, laser).reason is Reason.ALLOWED_BOOKING
    ledger_reverse(
        entry=LedgerEntry.objects.get(), actor=cashier, reason="Sold to the wrong person"
    )
    day_pass.refresh_from_db()
    assert day_pass.state == DayPassState.REFUNDED
    assert "reversed" in day_pass.ended_reason
    assert _switched_off(laser) == [("switch_off", "day_pass_ended")]
    assert _scan(holder, laser).reason is Reason.MEMBERSHIP_INACTIVE
    again = services.day_pass_sell_at_desk(
        holder=holder, product=product, day=TODAY, method="cash", actor=cashier
    )
    assert again.state == DayPassState.PAID


def test_staff_cancel_a_pass_with_a_reason_refunding_cash_as_credits(product, laser, cashier):
    holder = MemberFactory()
    day_pass = services.day_pass_sell_at_desk(
        holder=holder, product=product, day=TODAY, method="cash", actor=cashier
    )
    assert _at_the_laser(holder, laser).reason is Reason.ALLOWED_BOOKING
    with pytest.raises(DayPassRefused, match="Say why"):
        services.day_pass_cancel(day_pass=day_pass, actor=cashier, reason=" ", refund=True)
    refunded = services.day_pass_cancel(
        day_pass=day_pass, actor=cashier, reason="Laser broke down", refund=True
    )
    assert refunded == 4000
    day_pass.refresh_from_db()
    assert day_pass.state == DayPassState.CANCELLED
    assert day_pass.ended_reason == f"Cancelled by {cashier}: Laser broke down"
    assert _refunds(holder) == [("credits", -4000)]
    assert _switched_off(laser) == [("switch_off", "day_pass_ended")]
    assert _scan(holder, laser).reason is Reason.MEMBERSHIP_INACTIVE
    with pytest.raises(DayPassRefused, match="already cancelled"):
        services.day_pass_cancel(day_pass=day_pass, actor=cashier, reason="again", refund=True)
    assert len(_refunds(holder)) == 1


def test_staff_cancel_a_card_pass_and_refund_it_to_the_card_once(
    stripe_api, deliver, product, laser, cashier, django_capture_on_commit_callbacks
):
    holder = MemberFactory()
    services.day_pass_checkout(holder=holder, product=product, day=TODAY)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    session = s.payment_session_object(call)
    deliver(s.event("checkout.session.completed", session))
    day_pass = DayPass.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.day_pass_cancel(
            day_pass=day_pass, actor=cashier, reason="Double sale", refund=True
        )
    (refund,) = stripe_api.calls("post", "/v1/refunds")
    assert refund.params["payment_intent"] == session["payment_intent"]
    # Stripe then tells of the refund Toolgate made: already in the ledger.
    charge = s.charge_object(
        payment_intent=session["payment_intent"], amount=4000, amount_refunded=4000
    )
    assert deliver(s.event("charge.refunded", charge)).json()["outcome"] == "unchanged"
    assert _refunds(holder) == [("stripe", -4000)]
    assert DayPass.objects.get().state == DayPassState.CANCELLED


def test_cancelling_without_a_refund_keeps_the_money_and_spares_a_member_in_good_standing(
    product, laser, cashier
):
    member = ready_member(current_period_end=NOW + 30 * 24 * H)
    day_pass = services.day_pass_sell_at_desk(
        holder=member, product=product, day=TODAY, method="cash", actor=cashier
    )
    assert _at_the_laser(member, laser).reason is Reason.ALLOWED_BOOKING
    assert (
        services.day_pass_cancel(
            day_pass=day_pass, actor=cashier, reason="Bought by mistake", refund=False
        )
        == 0
    )
    assert _refunds(member) == []
    assert _switched_off(laser) == []  # their membership opens the laser anyway
    assert _scan(member, laser).reason is Reason.ALLOWED_BOOKING


def _cancel_token(html: str, day_pass) -> str:
    form = html[html.index(reverse("equipment:day_pass_cancel", args=[day_pass.pk])) :]
    return re.search(r'name="form_token" value="([^"]+)"', form).group(1)


def test_staff_cancel_a_pass_from_the_members_page(client, product, cashier):
    holder = MemberFactory()
    day_pass = services.day_pass_sell_at_desk(
        holder=holder, product=product, day=TODAY, method="cash", actor=cashier
    )
    client.force_login(cashier)
    page = client.get(reverse("staff_member_detail", args=[holder.pk])).content.decode()
    assert "Cancel this pass" in page
    response = client.post(
        reverse("equipment:day_pass_cancel", args=[day_pass.pk]),
        {"form_token": _cancel_token(page, day_pass), "reason": "Left early", "refund": "on"},
        follow=True,
    )
    html = response.content.decode()
    assert "Laser day for 2026-12-03 cancelled; $40.00 refunded." in html
    assert f"Cancelled (Cancelled by {cashier}: Left early)" in html
    assert "Cancel this pass" not in html


def test_someone_who_may_not_take_payments_cannot_cancel_a_pass(client, product, cashier):
    day_pass = services.day_pass_sell_at_desk(
        holder=MemberFactory(), product=product, day=TODAY, method="cash", actor=cashier
    )
    client.force_login(MemberFactory().user)
    response = client.post(
        reverse("equipment:day_pass_cancel", args=[day_pass.pk]), {"reason": "x"}
    )
    assert response.status_code == 403
    assert DayPass.objects.get().state == DayPassState.PAID


def _refunded_as_credits(holder, product, cashier):
    from membership.billing.ledger import ledger_refund

    day_pass = services.day_pass_sell_at_desk(
        holder=holder, product=product, day=TODAY, method="cash", actor=cashier
    )
    refund = ledger_refund(
        payment=LedgerEntry.objects.get(member=holder),
        amount_minor=4000,
        recorded_by=cashier,
        memo="Laser was down",
        method="credits",
    )
    day_pass.refresh_from_db()
    assert day_pass.state == DayPassState.REFUNDED
    return day_pass, refund


def test_a_refund_staff_undo_opens_the_pass_again_at_the_gate(product, laser, cashier):
    """The refund was a mistake: staff reverse its entry, the money is the pass's again and
    the gate lets the holder in again for the pass's day."""
    holder = MemberFactory()
    day_pass, refund = _refunded_as_credits(holder, product, cashier)
    assert _at_the_laser(holder, laser).reason is Reason.MEMBERSHIP_INACTIVE

    ledger_reverse(entry=refund, actor=cashier, reason="Refunded the wrong pass")
    day_pass.refresh_from_db()
    assert (day_pass.state, day_pass.ended_at, day_pass.ended_reason) == (
        DayPassState.PAID,
        None,
        "",
    )
    assert _scan(holder, laser).reason is Reason.ALLOWED_BOOKING
    amounts = LedgerEntry.objects.filter(member=holder).values_list("amount_minor", flat=True)
    assert sorted(amounts) == [-4000, 4000, 4000]
    # The payment can be refunded (or reversed) again, in full: the undone refund is not counted.
    from membership.billing.ledger import refundable_minor

    assert refundable_minor(LedgerEntry.objects.get(member=holder, kind="day_pass")) == 4000

    # And the day after, the reopened pass opens nothing: it was for its day only.
    with time_machine.travel(NOW + 24 * H, tick=False):
        assert (
            access_decide(
                badge_uid=holder.badges.get().uid,
                machine=laser,
                source=AccessSource.WEB,
                at=NOW + 24 * H,
            ).decision.reason
            is not Reason.ALLOWED_BOOKING
        )


def test_a_refund_is_not_undone_onto_a_pass_bought_again_for_that_day(product, cashier):
    from membership.billing.ledger import LedgerRefused

    holder = MemberFactory()
    day_pass, refund = _refunded_as_credits(holder, product, cashier)
    services.day_pass_sell_at_desk(
        holder=holder, product=product, day=TODAY, method="cash", actor=cashier
    )
    with pytest.raises(LedgerRefused, match="has another Laser day for 2026-12-03"):
        ledger_reverse(entry=refund, actor=cashier, reason="Refunded the wrong pass")
    day_pass.refresh_from_db()
    assert day_pass.state == DayPassState.REFUNDED
    assert not LedgerEntry.objects.filter(reverses=refund).exists()


def test_undoing_the_refund_of_a_pass_staff_cancelled_leaves_it_cancelled(product, cashier):
    holder = MemberFactory()
    day_pass = services.day_pass_sell_at_desk(
        holder=holder, product=product, day=TODAY, method="cash", actor=cashier
    )
    services.day_pass_cancel(day_pass=day_pass, actor=cashier, reason="Wrong member", refund=True)
    refund = LedgerEntry.objects.get(member=holder, kind="refund")
    ledger_reverse(entry=refund, actor=cashier, reason="Kept the money after all")
    day_pass.refresh_from_db()
    assert day_pass.state == DayPassState.CANCELLED
