"""Card refunds Toolgate decides: requested in the deciding transaction, sent to Stripe by the task
runner after the commit with one idempotency key, retried while Stripe may answer otherwise, in
the ledger once Stripe made them; never twice, whoever asks again."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from membership import roles
from membership.billing.refund_sending import refund_attempt
from membership.models import LedgerEntry, StripeEvent, StripeRefund
from membership.tasks import send_refund, sweep_refunds
from tests.factories.membership import UserFactory
from tests.membership import stripe_support as s

CARD_REFUSED = (402, {"type": "card_error", "code": "expired_card", "message": "Card expired."})
ALREADY_REFUNDED = (
    400,
    {
        "type": "invalid_request_error",
        "code": "charge_already_refunded",
        "message": "Charge ch_1 has already been refunded.",
    },
)
STRIPE_500 = (500, {"type": "api_error", "message": "Stripe is having a bad day"})


@pytest.fixture
def paid_twice(sell, stripe_api, deliver):
    """A desk sale the bank wanted the member to confirm: they paid the emailed link, and now
    Stripe says they confirmed the card payment too. Returns (sale, that event): delivering it
    makes Toolgate give the second payment back."""
    sale = sell("authentication_required")
    (link,) = stripe_api.calls("post", "/v1/checkout/sessions")
    assert (
        deliver(s.event("checkout.session.completed", s.payment_session_object(link))).status_code
        == 200
    )
    intent = s.payment_intent_ended(stripe_api, sale.payment_intent_id, succeeded=True)
    return sale, s.event("payment_intent.succeeded", intent)


def _refund_posts(stripe_api):
    return stripe_api.calls("post", "/v1/refunds")


def _refund_entries(member):
    return list(
        LedgerEntry.objects.filter(member=member, kind="refund").values_list(
            "amount_minor", "stripe_object_id", "memo"
        )
    )


def _due(refund: StripeRefund):
    """Run the periodic sweep at the moment the refund's next try is due."""
    import time_machine

    refund.refresh_from_db()
    with time_machine.travel(refund.next_attempt_at, tick=False):
        queued = sweep_refunds()
    refund.refresh_from_db()
    return queued


def test_a_payment_that_arrived_twice_is_refunded_once_after_the_webhook_commits(
    paid_twice, stripe_api, client, django_capture_on_commit_callbacks
):
    """Inside the webhook's transaction Stripe is not called: the refund is decided (a row with
    the amount, the reason and the payment intent's key) and asked for once that commits."""
    sale, confirmed = paid_twice
    payload = s.encode(confirmed)
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        response = client.post(
            reverse("stripe_webhook"),
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=s.sign(payload),
        )
    assert response.json()["outcome"] == "applied"
    asked = StripeRefund.objects.get()
    assert (asked.state, asked.amount_minor, asked.payment.stripe_object_id) == (
        "requested",
        2400,
        sale.payment_intent_id,
    )
    assert asked.idempotency_key == f"toolgate-refund-duplicate-{sale.payment_intent_id}"
    assert _refund_posts(stripe_api) == [] and _refund_entries(sale.member) == []

    for callback in after_commit:
        callback()
    (post,) = _refund_posts(stripe_api)
    assert post.headers["Idempotency-Key"] == asked.idempotency_key
    assert post.params["metadata[toolgate_refund]"] == str(asked.pk)
    asked.refresh_from_db()
    assert asked.state == "succeeded"
    assert _refund_entries(sale.member) == [
        (-2400, post.answer["id"], f"Sale {sale.pk} was already paid: this payment is refunded")
    ]
    assert asked.entry.refund_of == asked.payment


def test_a_webhook_stripe_delivers_again_never_refunds_twice(paid_twice, stripe_api, deliver):
    """The same event again (Stripe did not hear our answer), and the same payment told by
    another event: one refund request, one request to Stripe, one refund in the ledger."""
    sale, confirmed = paid_twice
    assert deliver(confirmed).json()["outcome"] == "applied"
    assert deliver(confirmed).status_code == 200  # the stored event: a redelivery changes nothing
    again = s.event("payment_intent.succeeded", confirmed["data"]["object"])
    assert deliver(again).json()["outcome"] == "unchanged"
    assert StripeEvent.objects.filter(type="payment_intent.succeeded").count() == 2
    assert StripeRefund.objects.count() == 1 and len(_refund_posts(stripe_api)) == 1
    assert [amount for amount, *_ in _refund_entries(sale.member)] == [-2400]


def test_stripe_answering_500_then_success_refunds_once_with_one_key(
    paid_twice, stripe_api, deliver
):
    """The webhook is answered 200 whatever Stripe's refunds do; the try that got a 500 is
    tried again after its backoff, with the same key, and the refund then lands."""
    sale, confirmed = paid_twice
    stripe_api.refund_answers = [STRIPE_500]
    assert deliver(confirmed).status_code == 200
    asked = StripeRefund.objects.get()
    assert (asked.state, asked.attempts, asked.last_error) == (
        "requested",
        1,
        "Stripe is having a bad day",
    )
    assert (asked.next_attempt_at - asked.created_at).total_seconds() == pytest.approx(60, abs=2)
    assert _refund_entries(sale.member) == []

    assert _due(asked) == 1
    assert asked.state == "succeeded"
    posts = _refund_posts(stripe_api)
    assert [p.headers["Idempotency-Key"] for p in posts] == [asked.idempotency_key] * 2
    assert len(stripe_api.refunds) == 1 and len(_refund_entries(sale.member)) == 1


def test_a_lost_answer_and_a_task_run_twice_make_one_refund(paid_twice, stripe_api, deliver):
    """Stripe made the refund but its answer was lost: the retry sends the same key, Stripe
    answers with the refund it made, and the ledger records it once. Running the task again
    (a worker redelivered it) asks Stripe nothing more."""
    sale, confirmed = paid_twice
    stripe_api.refund_answers = ["lost"]
    deliver(confirmed)
    asked = StripeRefund.objects.get()
    assert asked.state == "requested" and len(stripe_api.refunds) == 1

    assert send_refund(asked.pk) == ""  # not due yet: its backoff holds it
    assert len(_refund_posts(stripe_api)) == 1
    assert _due(asked) == 1
    assert asked.state == "succeeded"
    first, second = _refund_posts(stripe_api)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert asked.stripe_refund_id == stripe_api.refunds[0]["id"]
    assert len(stripe_api.refunds) == 1

    assert send_refund(asked.pk) == ""
    assert refund_attempt(refund_id=asked.pk, now=asked.finished_at) == ""
    assert len(_refund_posts(stripe_api)) == 2
    assert [(a, ref) for a, ref, _ in _refund_entries(sale.member)] == [
        (-2400, stripe_api.refunds[0]["id"])
    ]


def test_charge_refunded_arriving_first_settles_the_request(paid_twice, stripe_api, deliver):
    """Stripe's charge.refunded for a refund whose answer was lost records it with the
    request's reason (its metadata names the request); the retry then records nothing more."""
    sale, confirmed = paid_twice
    stripe_api.refund_answers = ["lost"]
    deliver(confirmed)
    asked = StripeRefund.objects.get()
    charge = s.charge_object(
        payment_intent=sale.payment_intent_id, amount=2400, amount_refunded=2400
    )
    assert deliver(s.event("charge.refunded", charge)).json()["outcome"] == "applied"
    asked.refresh_from_db()
    assert asked.state == "succeeded"
    assert _refund_entries(sale.member)[0][2] == asked.reason
    assert sweep_refunds() == 0
    assert len(_refund_posts(stripe_api)) == 1 and len(_refund_entries(sale.member)) == 1


@pytest.mark.parametrize(
    ("answer", "error"),
    [(CARD_REFUSED, "Card expired."), (ALREADY_REFUNDED, "has already been refunded")],
)
def test_stripe_refusing_marks_the_refund_failed_and_tries_no_more(
    paid_twice, stripe_api, deliver, answer, error
):
    sale, confirmed = paid_twice
    stripe_api.refund_answers = [answer]
    deliver(confirmed)
    asked = StripeRefund.objects.get()
    assert asked.state == "failed" and error in asked.last_error
    assert asked.next_attempt_at is None and sweep_refunds() == 0
    assert len(_refund_posts(stripe_api)) == 1 and _refund_entries(sale.member) == []


def test_transient_failures_give_up_after_REFUND_MAX_TRIES_with_growing_waits(
    paid_twice, stripe_api, deliver, settings
):
    settings.REFUND_MAX_TRIES = 3
    sale, confirmed = paid_twice
    stripe_api.refund_answers = [STRIPE_500] * 3
    deliver(confirmed)
    asked = StripeRefund.objects.get()
    waits = []
    for _ in range(2):
        before = asked.next_attempt_at
        _due(asked)
        waits.append(
            round((asked.next_attempt_at - before).total_seconds())
            if asked.next_attempt_at
            else None
        )
    assert waits == [120, None]
    assert asked.state == "failed" and asked.attempts == 3
    assert "could not be reached (3 tries)" in asked.last_error
    assert _refund_entries(sale.member) == []


def test_staff_see_a_failed_refund_and_try_it_again(
    paid_twice, stripe_api, deliver, client, django_capture_on_commit_callbacks
):
    """The member page lists it with Stripe's reason and a button; the retry has a key of its
    own (Stripe would replay its refusal), looks for the refund on Stripe first, then makes it."""
    sale, confirmed = paid_twice
    stripe_api.refund_answers = [CARD_REFUSED]
    deliver(confirmed)
    asked = StripeRefund.objects.get()
    cashier = UserFactory(role=roles.STAFF)
    client.force_login(cashier)
    page = client.get(reverse("staff_member_detail", args=[sale.member.pk])).content.decode()
    assert f'data-refund="{asked.pk}" data-refund-state="failed"' in page
    assert "Card expired." in page and "Try the refund again" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("staff_refund_retry", args=[asked.pk]),
            {"form_token": uuid.uuid4()},
            follow=True,
        )
    assert "being sent to Stripe again" in response.content.decode()
    asked.refresh_from_db()
    assert asked.state == "succeeded" and asked.staff_retries == 1
    lookups = [r for r in stripe_api.calls("get", "/v1/refunds") if "payment_intent" in r.params]
    assert len(lookups) == 1
    first, second = _refund_posts(stripe_api)
    assert second.headers["Idempotency-Key"] == f"{first.headers['Idempotency-Key']}~retry-1"
    assert len(_refund_entries(sale.member)) == 1
    page = client.get(reverse("staff_member_detail", args=[sale.member.pk])).content.decode()
    assert "data-refund=" not in page


def test_only_a_failed_refund_is_tried_again_and_only_by_staff_who_take_payments(
    paid_twice, stripe_api, deliver, client
):
    sale, confirmed = paid_twice
    deliver(confirmed)
    asked = StripeRefund.objects.get()
    staff = UserFactory(role=roles.STAFF)
    client.force_login(staff)
    response = client.post(
        reverse("staff_refund_retry", args=[asked.pk]), {"form_token": uuid.uuid4()}
    )
    assert response.status_code == 400
    assert "Only a failed refund" in response.content.decode()
    client.force_login(sale.member.user)
    response = client.post(
        reverse("staff_refund_retry", args=[asked.pk]), {"form_token": uuid.uuid4()}
    )
    assert response.status_code == 403


def test_the_member_sees_a_card_refund_on_its_way(paid_twice, stripe_api, deliver, client):
    sale, confirmed = paid_twice
    stripe_api.refund_answers = [STRIPE_500]
    deliver(confirmed)
    client.force_login(sale.member.user)
    page = client.get(reverse("membership_billing")).content.decode()
    assert "Card refunds on their way" in page and "Sending to Stripe" in page
    assert "Stripe is having a bad day" not in page  # Stripe's errors are for staff
