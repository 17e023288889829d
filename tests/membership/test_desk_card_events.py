"""A desk sale's off-session card payment that ends later: payment_intent.succeeded records it,
payment_intent.payment_failed ends in a pay-by link for the member and a note to staff; each once,
whatever order or how often Stripe delivers them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from membership.billing import desk
from membership.models import LedgerEntry, MaterialSale, StripeEvent
from tests.membership import stripe_support as s


def _ledger(sale):
    return list(
        LedgerEntry.objects.filter(member=sale.member).values_list("method", "amount_minor")
    )


def _ended(stripe_api, sale, *, succeeded: bool, **kwargs) -> dict:
    kind = "payment_intent.succeeded" if succeeded else "payment_intent.payment_failed"
    intent = s.payment_intent_ended(
        stripe_api, sale.payment_intent_id, succeeded=succeeded, **kwargs
    )
    return s.event(kind, intent)


def test_a_card_still_processing_leaves_the_sale_awaiting_until_it_succeeds(
    sell, stripe_api, deliver, mailoutbox
):
    sale = sell("processing")
    assert (sale.state, sale.pay_url, _ledger(sale)) == ("awaiting", "", [])
    assert mailoutbox == []

    succeeded = _ended(stripe_api, sale, succeeded=True)
    assert deliver(succeeded).json()["outcome"] == "applied"
    assert deliver(succeeded).json()["outcome"] == "applied"  # the stored answer, unchanged
    sale.refresh_from_db()
    assert sale.state == "paid"
    assert _ledger(sale) == [("stripe", 2400)]
    # A late failure of the same payment (out of order) changes nothing.
    assert deliver(_ended(stripe_api, sale, succeeded=False)).json()["outcome"] == "unchanged"
    assert _ledger(sale) == [("stripe", 2400)] and mailoutbox == []


def test_a_failed_card_ends_in_a_pay_by_link_once_and_staff_are_told(
    sell, stripe_api, deliver, mailoutbox, staff_user
):
    sale = sell("processing")
    failed = _ended(stripe_api, sale, succeeded=False)
    assert deliver(failed).json()["outcome"] == "applied"
    sale.refresh_from_db()
    assert sale.state == "awaiting" and sale.pay_url.startswith("https://checkout.stripe.com/")
    (link,) = stripe_api.calls("post", "/v1/checkout/sessions")
    assert link.params["line_items[0][price_data][unit_amount]"] == "2400"
    assert link.params["metadata[toolgate_ref]"] == str(sale.pk)
    assert link.headers["Idempotency-Key"] == f"toolgate-sale-link-{sale.pk}"
    to_member, to_staff = sorted(mailoutbox, key=lambda m: m.to != [sale.member.user.email])
    assert to_member.to == [sale.member.user.email] and sale.pay_url in to_member.body
    assert to_staff.to == [staff_user.email]
    assert "insufficient_funds" in to_staff.body and "$24.00" in to_staff.body

    # The same failure again, in a second event, sends no second link or email.
    again = _ended(stripe_api, sale, succeeded=False)
    assert deliver(again).json()["outcome"] == "unchanged"
    assert len(stripe_api.calls("post", "/v1/checkout/sessions")) == 1 and len(mailoutbox) == 2

    # The member pays by the link: recorded once, and the sale is paid.
    paid = s.event("checkout.session.completed", s.payment_session_object(link))
    assert deliver(paid).json()["outcome"] == "applied"
    sale.refresh_from_db()
    assert sale.state == "paid" and _ledger(sale) == [("stripe", 2400)]


def test_sca_needed_at_the_desk_sends_one_link_whatever_the_failure_event_says(
    sell, stripe_api, deliver, mailoutbox
):
    """Stripe also sends payment_intent.payment_failed for the intent that wanted
    authentication: the link the desk sent stands, nothing is sent twice."""
    sale = sell("authentication_required")
    assert sale.state == "awaiting" and sale.pay_url and len(mailoutbox) == 1
    failed = _ended(stripe_api, sale, succeeded=False, code="authentication_required")
    assert deliver(failed).json()["outcome"] == "unchanged"
    assert len(stripe_api.calls("post", "/v1/checkout/sessions")) == 1 and len(mailoutbox) == 1


def test_requires_action_without_an_error_is_sca_too(sell, stripe_api):
    sale = sell("requires_action")
    assert sale.state == "awaiting" and sale.pay_url
    assert sale.payment_intent_id in stripe_api.payment_intents


def test_a_failure_of_a_sale_declined_at_the_desk_is_ignored(
    sell, stripe_api, deliver, acrylic, staff_user
):
    """The declined sale was never kept; a later sale with the same number is not touched."""
    with pytest.raises(desk.SaleRefused):
        sell("card_declined")
    (declined,) = stripe_api.payment_intents.values()
    later = sell("succeeded")
    failed = s.event(
        "payment_intent.payment_failed",
        s.payment_intent_ended(stripe_api, declined["id"], succeeded=False),
    )
    failed["data"]["object"]["metadata"]["toolgate_ref"] = str(later.pk)
    assert deliver(failed).json()["outcome"] == "ignored"
    later.refresh_from_db()
    assert later.state == "paid" and later.pay_url == ""


def test_intents_toolgate_did_not_make_off_session_are_ignored(stripe_api, deliver):
    intent = {
        "id": "pi_Subscription",
        "object": "payment_intent",
        "amount": 10000,
        "currency": "usd",
        "customer": "cus_Someone",
        "metadata": {},
        "status": "requires_payment_method",
    }
    response = deliver(s.event("payment_intent.payment_failed", intent))
    assert response.json()["outcome"] == "ignored"


def test_a_failure_naming_another_customer_or_forged_changes_nothing(
    sell, stripe_api, deliver, mailoutbox
):
    sale = sell("processing")
    failed = _ended(stripe_api, sale, succeeded=False)
    failed["data"]["object"]["customer"] = "cus_SomeoneElse"
    assert deliver(failed).status_code == 400
    forged = _ended(stripe_api, sale, succeeded=False)
    assert deliver(forged, secret="whsec_not_ours").status_code == 400
    succeeded = _ended(stripe_api, sale, succeeded=True)
    succeeded["data"]["object"]["amount"] = 1
    assert deliver(succeeded).status_code == 400
    sale.refresh_from_db()
    assert (sale.state, sale.pay_url, _ledger(sale)) == ("awaiting", "", [])
    assert not StripeEvent.objects.exists() and mailoutbox == []


def _refunds_asked(stripe_api):
    return [
        (r.params["payment_intent"], r.params["amount"], r.headers["Idempotency-Key"])
        for r in stripe_api.calls("post", "/v1/refunds")
    ]


def test_a_card_confirmed_after_the_pay_by_link_was_paid_is_refunded_once(
    sell, stripe_api, deliver
):
    """The bank wanted the member (SCA): they paid the emailed link, then also confirmed the
    desk's card payment in their bank's app. The sale is paid once; the card payment goes back
    through Stripe Refunds, and both it and its refund are in the ledger."""
    sale = sell("authentication_required")
    (link,) = stripe_api.calls("post", "/v1/checkout/sessions")
    by_link = s.payment_session_object(link)
    assert deliver(s.event("checkout.session.completed", by_link)).json()["outcome"] == "applied"

    confirmed = _ended(stripe_api, sale, succeeded=True)
    assert deliver(confirmed).json()["outcome"] == "applied"
    assert deliver(_ended(stripe_api, sale, succeeded=True)).json()["outcome"] == "unchanged"

    key = f"toolgate-refund-duplicate-{sale.payment_intent_id}"
    assert _refunds_asked(stripe_api) == [(sale.payment_intent_id, "2400", key)]
    sale.refresh_from_db()
    assert sale.state == "paid"
    entries = LedgerEntry.objects.filter(member=sale.member).order_by("pk")
    assert [(e.kind, e.amount_minor, e.stripe_object_id[:3]) for e in entries] == [
        ("material", 2400, "pi_"),
        ("material", 2400, "pi_"),
        ("refund", -2400, "re_"),
    ]
    assert entries[2].refund_of == entries[1]
    assert entries[1].stripe_object_id == sale.payment_intent_id
    assert sum(e.amount_minor for e in entries) == 2400


def test_a_pay_by_link_paid_after_the_card_was_confirmed_is_refunded(sell, stripe_api, deliver):
    """The other order: the card payment succeeded first, then the link was paid as well."""
    sale = sell("authentication_required")
    assert deliver(_ended(stripe_api, sale, succeeded=True)).json()["outcome"] == "applied"
    (link,) = stripe_api.calls("post", "/v1/checkout/sessions")
    by_link = s.payment_session_object(link)
    assert deliver(s.event("checkout.session.completed", by_link)).json()["outcome"] == "applied"
    assert deliver(s.event("checkout.session.completed", by_link)).json()["outcome"] == (
        "unchanged"
    )
    (refund,) = stripe_api.calls("post", "/v1/refunds")
    assert refund.params["payment_intent"] == by_link["payment_intent"]
    assert (
        sum(LedgerEntry.objects.filter(member=sale.member).values_list("amount_minor", flat=True))
        == 2400
    )


@pytest.fixture
def expire_at(django_capture_on_commit_callbacks):
    """Run the periodic job `minutes` after a sale was made, and what it queued at each commit;
    returns how many sales it expired."""
    import time_machine

    from membership.tasks import expire_desk_sales

    def run(sale, minutes: float) -> int:
        moment = sale.created_at + timedelta(minutes=minutes)
        with (
            time_machine.travel(moment, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return expire_desk_sales()

    return run


def test_a_sale_awaiting_payment_expires_after_the_set_time_and_the_seller_is_told(
    sell, stripe_api, acrylic, staff_user, staff_client, mailoutbox, settings, expire_at
):
    """Awaiting payment does not last for ever: after DESK_SALE_PAYMENT_MINUTES the sale is
    undone (its sheets counted back into stock) and whoever sold it is emailed."""
    settings.DESK_SALE_PAYMENT_MINUTES = 20
    sale = sell("authentication_required")
    acrylic.refresh_from_db()
    assert acrylic.stock == 3
    mailoutbox.clear()  # the member's pay-by link
    assert expire_at(sale, 19) == 0
    assert MaterialSale.objects.get(pk=sale.pk).state == "awaiting"

    assert expire_at(sale, 21) == 1
    sale.refresh_from_db()
    acrylic.refresh_from_db()
    assert (sale.state, acrylic.stock, _ledger(sale)) == ("expired", 5, [])
    (told,) = mailoutbox
    assert told.to == [staff_user.email] and "expired unpaid" in told.subject
    assert "not made within 20 minutes" in told.body
    page = staff_client.get(reverse("staff_member_detail", args=[sale.member.pk])).content.decode()
    assert "data-sale-expired" in page
    assert expire_at(sale, 60) == 0  # once


def test_a_sale_paid_in_time_is_not_expired(sell, stripe_api, deliver, expire_at):
    sale = sell("processing")
    assert deliver(_ended(stripe_api, sale, succeeded=True)).json()["outcome"] == "applied"
    assert expire_at(sale, 600) == 0
    assert MaterialSale.objects.get(pk=sale.pk).state == "paid"


@pytest.mark.parametrize("paid_by", ["link", "card"])
def test_a_payment_arriving_after_the_sale_expired_is_refunded(
    sell, stripe_api, deliver, paid_by, expire_at
):
    """The sale was undone (and perhaps sold again in cash): a card payment that still comes,
    by the emailed link or the confirmed card, goes back to the card in full."""
    sale = sell("authentication_required")
    assert expire_at(sale, 31) == 1
    if paid_by == "link":
        (link,) = stripe_api.calls("post", "/v1/checkout/sessions")
        late = s.event("checkout.session.completed", s.payment_session_object(link))
    else:
        late = _ended(stripe_api, sale, succeeded=True)
    assert deliver(late).json()["outcome"] == "applied"
    sale.refresh_from_db()
    assert sale.state == "expired"
    (refund,) = stripe_api.calls("post", "/v1/refunds")
    assert refund.params["amount"] == "2400"
    assert sorted(amount for _, amount in _ledger(sale)) == [-2400, 2400]
