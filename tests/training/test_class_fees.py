"""Class fees: Checkout in payment mode holds the seat, webhooks confirm or release it once,
cash at the desk in manual mode, and the refund policy through Stripe Refunds, in the ledger."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from membership import roles
from membership.models import LedgerEntry, StripeEvent, StripeRefund
from tests.factories.membership import MembershipFactory, UserFactory
from tests.factories.training import CertificationFactory, ClassSessionFactory
from tests.membership import stripe_support as s
from training import fees
from training.models import Enrollment, EnrollmentStatus, FeeState

SITE = "https://space.example.org"


def _token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def paid_class(db, instructor):
    """A $30.00 laser class with one seat, a week from now."""
    laser = CertificationFactory(
        name="Laser cutter", class_fee_minor=3000, class_fee_currency="usd"
    )
    return ClassSessionFactory(certification=laser, instructor=instructor, capacity=1)


@pytest.fixture
def maker(db, client):
    member = MembershipFactory().member
    client.force_login(member.user)
    return member


def _enroll(client, session):
    page = client.get(reverse("training:session_detail", args=[session.pk])).content.decode()
    return client.post(
        reverse("training:session_enroll", args=[session.pk]), {"form_token": _token(page)}
    )


def _ledger(member):
    return list(
        LedgerEntry.objects.filter(member=member)
        .order_by("pk")
        .values_list("kind", "method", "amount_minor", "currency")
    )


def test_enrolling_online_holds_the_seat_and_opens_checkout_in_payment_mode(
    stripe_api, client, maker, paid_class
):
    response = _enroll(client, paid_class)
    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    enrollment = Enrollment.objects.get(member=maker)
    assert (enrollment.status, enrollment.fee_state) == (EnrollmentStatus.ENROLLED, FeeState.DUE)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    expires = int(call.params["expires_at"])
    assert 30 * 60 <= expires - timezone.now().timestamp() <= 31 * 60
    detail = f"{SITE}/training/sessions/{paid_class.pk}/"
    assert call.params == {
        "mode": "payment",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "3000",
        "line_items[0][price_data][product_data][name]": f"Class: {paid_class}",
        "line_items[0][quantity]": "1",
        "client_reference_id": f"class_fee-{enrollment.pk}",
        "metadata[toolgate_kind]": "class_fee",
        "metadata[toolgate_ref]": str(enrollment.pk),
        "payment_intent_data[metadata][toolgate_kind]": "class_fee",
        "payment_intent_data[metadata][toolgate_ref]": str(enrollment.pk),
        "allow_promotion_codes": "true",
        "expires_at": call.params["expires_at"],
        "success_url": detail + "?checkout=success",
        "cancel_url": detail + "?checkout=canceled",
        "customer_email": maker.user.email,
    }
    assert call.headers["Idempotency-Key"].startswith(f"toolgate-class-fee-{enrollment.pk}-")
    assert enrollment.checkout_session_id == call.answer["id"]
    assert _ledger(maker) == []  # nothing is paid until Stripe says so


def test_a_member_with_a_stripe_customer_pays_as_that_customer(stripe_api, client, paid_class):
    from tests.factories.membership import StripeMembershipFactory

    member = StripeMembershipFactory().member
    client.force_login(member.user)
    _enroll(client, paid_class)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    assert call.params["customer"] == member.membership.stripe_customer_id
    assert call.params["payment_intent_data[setup_future_usage]"] == "off_session"
    assert "customer_email" not in call.params


def test_completed_checkout_confirms_the_seat_once(stripe_api, deliver, client, maker, paid_class):
    _enroll(client, paid_class)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    session = s.payment_session_object(call)
    completed = s.event("checkout.session.completed", session)
    assert deliver(completed).json()["outcome"] == "applied"
    assert deliver(completed).json()["outcome"] == "applied"  # redelivery: the stored event
    again = s.event("checkout.session.completed", session)  # another event, same payment
    assert deliver(again).json()["outcome"] == "unchanged"
    enrollment = Enrollment.objects.get(member=maker)
    assert (enrollment.fee_state, enrollment.fee_due_by) == (FeeState.PAID, None)
    assert _ledger(maker) == [("class_fee", "stripe", 3000, "usd")]
    entry = LedgerEntry.objects.get(member=maker)
    assert entry.stripe_object_id == session["payment_intent"] and entry.cause == enrollment
    page = client.get(reverse("training:session_detail", args=[paid_class.pk])).content.decode()
    assert 'data-fee-state="paid"' in page and "Class fee paid." in page


def test_a_forged_completion_is_refused_and_changes_nothing(
    stripe_api, deliver, client, maker, paid_class
):
    _enroll(client, paid_class)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    completed = s.event("checkout.session.completed", s.payment_session_object(call))
    forged = deliver(completed, signature=None, secret="whsec_not_ours")
    response = deliver(completed, secret="whsec_attacker")
    assert forged.status_code == response.status_code == 400
    assert Enrollment.objects.get(member=maker).fee_state == FeeState.DUE
    assert _ledger(maker) == [] and not StripeEvent.objects.exists()


def test_a_completion_in_another_currency_is_refused(
    stripe_api, deliver, client, maker, paid_class
):
    _enroll(client, paid_class)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    session = dict(s.payment_session_object(call), currency="eur")
    assert deliver(s.event("checkout.session.completed", session)).status_code == 400
    assert _ledger(maker) == []


def test_expired_checkout_releases_the_seat_to_the_waitlist(
    stripe_api, deliver, client, maker, paid_class
):
    _enroll(client, paid_class)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    waiting = MembershipFactory().member
    fees.enrollment_create_paid(member=waiting, session=paid_class)
    assert Enrollment.objects.get(member=waiting).status == EnrollmentStatus.WAITLISTED
    expired = s.event("checkout.session.expired", s.payment_session_object(call, status="expired"))
    assert deliver(expired).json()["outcome"] == "applied"
    assert deliver(expired).json()["outcome"] == "applied"  # stored once, applied once
    held = Enrollment.objects.get(member=maker)
    assert (held.status, held.fee_state) == (EnrollmentStatus.CANCELLED, FeeState.FREE)
    promoted = Enrollment.objects.get(member=waiting)
    assert (promoted.status, promoted.fee_state) == (EnrollmentStatus.ENROLLED, FeeState.DUE)
    assert _ledger(maker) == []


def test_an_expiry_after_the_payment_or_of_an_older_checkout_changes_nothing(
    stripe_api, deliver, client, maker, paid_class
):
    _enroll(client, paid_class)
    enrollment = Enrollment.objects.get(member=maker)
    page = client.get(reverse("training:session_detail", args=[paid_class.pk])).content.decode()
    client.post(
        reverse("training:enrollment_pay", args=[enrollment.pk]), {"form_token": _token(page)}
    )
    first, second = stripe_api.calls("post", "/v1/checkout/sessions")
    old = s.event("checkout.session.expired", s.payment_session_object(first, status="expired"))
    assert deliver(old).json()["outcome"] == "unchanged"
    assert Enrollment.objects.get(pk=enrollment.pk).status == EnrollmentStatus.ENROLLED
    session = s.payment_session_object(second)
    deliver(s.event("checkout.session.completed", session))
    late = s.event("checkout.session.expired", dict(session, status="expired"))
    assert deliver(late).json()["outcome"] == "unchanged"
    assert Enrollment.objects.get(pk=enrollment.pk).fee_state == FeeState.PAID


def test_paying_after_the_seat_was_released_refunds_in_full(
    stripe_api, deliver, client, maker, paid_class
):
    _enroll(client, paid_class)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    enrollment = Enrollment.objects.get(member=maker)
    fees.enrollment_cancel_refunding(enrollment=enrollment, actor=maker.user)
    session = s.payment_session_object(call)
    assert "refunded" in deliver(s.event("checkout.session.completed", session)).json()[
        "outcome"
    ] + (StripeEvent.objects.get(type="checkout.session.completed").note)
    (refund,) = stripe_api.calls("post", "/v1/refunds")
    assert refund.params["payment_intent"] == session["payment_intent"]
    assert refund.params["amount"] == "3000"
    assert _ledger(maker) == [
        ("class_fee", "stripe", 3000, "usd"),
        ("refund", "stripe", -3000, "usd"),
    ]


@pytest.fixture
def paid_seat(stripe_api, deliver, client, maker, paid_class):
    _enroll(client, paid_class)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    session = s.payment_session_object(call)
    deliver(s.event("checkout.session.completed", session))
    return Enrollment.objects.get(member=maker), session


def test_cancelling_48_hours_ahead_refunds_through_stripe(
    stripe_api, client, maker, paid_seat, django_capture_on_commit_callbacks
):
    """The refund is asked of Stripe once the cancellation commits (the task runner), and its
    entry follows Stripe's answer."""
    enrollment, session = paid_seat
    page = client.get(reverse("training:session_detail", args=[enrollment.session_id]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("training:enrollment_cancel", args=[enrollment.pk]),
            {"form_token": _token(page.content.decode())},
            follow=True,
        )
    assert "cancelled and $30.00 refunded" in response.content.decode()
    (refund,) = stripe_api.calls("post", "/v1/refunds")
    payment = LedgerEntry.objects.get(kind="class_fee")
    asked = StripeRefund.objects.get()
    assert refund.params == {
        "payment_intent": session["payment_intent"],
        "amount": "3000",
        "metadata[toolgate_refund]": str(asked.pk),
        "metadata[toolgate_entry]": str(payment.pk),
        "metadata[reason]": "Cancelled 48 h or more before the class",
    }
    assert refund.headers["Idempotency-Key"] == f"toolgate-refund-{payment.pk}-1"
    entry = LedgerEntry.objects.get(kind="refund")
    assert (asked.state, asked.entry) == ("succeeded", entry)
    assert (entry.amount_minor, entry.refund_of, entry.stripe_object_id) == (
        -3000,
        payment,
        refund.answer["id"],
    )
    assert Enrollment.objects.get(pk=enrollment.pk).fee_state == FeeState.REFUNDED


def test_cancelling_late_keeps_the_fee_unless_staff_refund_with_a_reason(
    stripe_api, maker, paid_seat
):
    enrollment, _ = paid_seat
    soon = enrollment.session.start - timedelta(hours=47)
    kept, refunded = fees.enrollment_cancel_refunding(
        enrollment=enrollment, actor=maker.user, now=soon
    )
    assert (kept.fee_state, refunded) == (FeeState.KEPT, 0)
    assert stripe_api.calls("post", "/v1/refunds") == []


def test_staff_override_the_policy_with_a_reason(
    stripe_api, maker, paid_seat, django_capture_on_commit_callbacks
):
    enrollment, _ = paid_seat
    staff = UserFactory(role=roles.STAFF)
    soon = enrollment.session.start - timedelta(hours=2)
    with pytest.raises(Exception, match="Only staff"):
        fees.enrollment_cancel_refunding(
            enrollment=enrollment, actor=maker.user, override_reason="please", now=soon
        )
    with django_capture_on_commit_callbacks(execute=True):
        done, refunded = fees.enrollment_cancel_refunding(
            enrollment=enrollment, actor=staff, override_reason="Sick, doctor's note", now=soon
        )
    assert (done.fee_state, refunded) == (FeeState.REFUNDED, 3000)
    assert LedgerEntry.objects.get(kind="refund").memo.endswith(
        "outside the policy: Sick, doctor's note"
    )


def test_stripe_down_during_a_refund_cancels_and_the_refund_follows_when_it_is_back(
    stripe_api, maker, paid_seat, django_capture_on_commit_callbacks
):
    """Stripe's trouble no longer holds the member's cancellation: the seat goes at once, the
    refund waits as requested (nothing in the ledger: no money moved yet), and the sweep sends
    it once Stripe answers again."""
    from membership.tasks import sweep_refunds

    enrollment, _ = paid_seat
    stripe_api.fail_with_status = 500
    with django_capture_on_commit_callbacks(execute=True):
        _, refunded = fees.enrollment_cancel_refunding(enrollment=enrollment, actor=maker.user)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.fee_state, refunded) == (
        EnrollmentStatus.CANCELLED,
        FeeState.REFUNDED,
        3000,
    )
    asked = StripeRefund.objects.get()
    assert (asked.state, asked.attempts) == ("requested", 1)
    assert not LedgerEntry.objects.filter(kind="refund").exists()

    stripe_api.fail_with_status = None
    with time_machine.travel(asked.next_attempt_at, tick=False):
        assert sweep_refunds() == 1
    asked.refresh_from_db()
    assert asked.state == "succeeded"
    assert LedgerEntry.objects.get(kind="refund").amount_minor == -3000
    keys = {r.headers["Idempotency-Key"] for r in stripe_api.calls("post", "/v1/refunds")}
    assert keys == {asked.idempotency_key}


def test_manual_mode_staff_take_the_fee_in_cash(client, maker, paid_class):
    response = _enroll(client, paid_class)
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(member=maker)
    assert (enrollment.fee_state, enrollment.fee_due_by) == (FeeState.DUE, None)
    staff = UserFactory(role=roles.STAFF)
    staff.user_permissions.add(
        *__import__(
            "django.contrib.auth.models", fromlist=["Permission"]
        ).Permission.objects.filter(codename="manage_training")
    )
    client.force_login(staff)
    page = client.get(reverse("training:session_detail", args=[paid_class.pk])).content.decode()
    assert 'data-roster-fee="due"' in page and "Paid $30.00 in cash" in page
    client.post(
        reverse("training:enrollment_fee_cash", args=[enrollment.pk]), {"form_token": _token(page)}
    )
    assert _ledger(maker) == [("class_fee", "cash", 3000, "usd")]
    assert Enrollment.objects.get(pk=enrollment.pk).fee_state == FeeState.PAID
    # Cancelled in time by the member: cash comes back as prepaid credits.
    _, refunded = fees.enrollment_cancel_refunding(enrollment=enrollment, actor=maker.user)
    assert refunded == 3000
    assert _ledger(maker)[-1] == ("refund", "credits", -3000, "usd")
    from membership.billing.selectors import member_credit_balance

    assert member_credit_balance(maker, "usd") == 3000


def test_a_class_fee_in_won_is_charged_in_whole_won(
    stripe_api, deliver, client, maker, instructor, settings
):
    settings.SPACE_LOCALE = "ko_KR"
    cert = CertificationFactory(name="레이저", class_fee_minor=30000, class_fee_currency="krw")
    session = ClassSessionFactory(certification=cert, instructor=instructor)
    page = client.get(reverse("training:session_detail", args=[session.pk])).content.decode()
    assert "Class fee: <strong>₩30,000</strong>" in page
    _enroll(client, session)
    (call,) = stripe_api.calls("post", "/v1/checkout/sessions")
    assert call.params["line_items[0][price_data][unit_amount]"] == "30000"
    assert call.params["line_items[0][price_data][currency]"] == "krw"
    deliver(s.event("checkout.session.completed", s.payment_session_object(call)))
    assert _ledger(maker) == [("class_fee", "stripe", 30000, "krw")]


def test_a_refund_in_the_stripe_dashboard_lands_in_the_ledger_once(
    stripe_api, deliver, maker, paid_seat
):
    _, session = paid_seat
    intent = session["payment_intent"]
    s.refund_in_dashboard(stripe_api, payment_intent=intent, amount=1000)
    refunded = s.event(
        "charge.refunded", s.charge_object(payment_intent=intent, amount=3000, amount_refunded=1000)
    )
    assert deliver(refunded).json()["outcome"] == "applied"
    again = s.event(
        "charge.refunded", s.charge_object(payment_intent=intent, amount=3000, amount_refunded=1000)
    )
    assert deliver(again).json()["outcome"] == "unchanged"
    assert _ledger(maker)[-1] == ("refund", "stripe", -1000, "usd")
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
    (listed, _) = stripe_api.calls("get", "/v1/refunds")
    assert listed.params == {"payment_intent": intent, "limit": "100"}


def test_our_own_refund_is_not_recorded_again_by_its_event(
    stripe_api, deliver, maker, paid_seat, django_capture_on_commit_callbacks
):
    enrollment, session = paid_seat
    with django_capture_on_commit_callbacks(execute=True):
        fees.enrollment_cancel_refunding(enrollment=enrollment, actor=maker.user)
    charge = s.charge_object(
        payment_intent=session["payment_intent"], amount=3000, amount_refunded=3000
    )
    assert deliver(s.event("charge.refunded", charge)).json()["outcome"] == "unchanged"
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_a_refund_of_a_payment_toolgate_never_took_is_ignored(stripe_api, deliver):
    charge = s.charge_object(payment_intent="pi_NotOurs", amount=500, amount_refunded=500)
    response = deliver(s.event("charge.refunded", charge))
    assert response.json()["outcome"] == "ignored"
    assert not LedgerEntry.objects.exists()


def test_a_promoted_member_gets_a_pay_by_deadline_and_the_seat_passes_on(
    stripe_api, deliver, client, maker, paid_class, mailoutbox, django_capture_on_commit_callbacks
):
    from training.tasks import release_class_fee_holds

    first, second = MembershipFactory().member, MembershipFactory().member
    fees.enrollment_create_paid(member=first, session=paid_class)
    with django_capture_on_commit_callbacks(execute=True):
        fees.enrollment_create_paid(member=second, session=paid_class)
        # The seat holder cancels (before paying): the first on the waitlist is promoted.
        fees.enrollment_cancel_refunding(
            enrollment=Enrollment.objects.get(member=first), actor=first.user
        )
    promoted = Enrollment.objects.get(member=second)
    assert (promoted.status, promoted.fee_state) == (EnrollmentStatus.ENROLLED, FeeState.DUE)
    assert abs(promoted.fee_due_by - (timezone.now() + timedelta(hours=24))) < timedelta(minutes=1)
    (email,) = mailoutbox
    assert "The class fee is $30.00. Pay it by" in email.body
    assert f"/training/sessions/{paid_class.pk}/" in email.body
    third = MembershipFactory().member
    fees.enrollment_create_paid(member=third, session=paid_class)
    assert release_class_fee_holds() == 0  # not due yet
    lapsed = timezone.now() + timedelta(hours=25)
    assert fees.class_fee_holds_release(now=lapsed) == 1
    assert Enrollment.objects.get(member=second).status == EnrollmentStatus.CANCELLED
    assert Enrollment.objects.get(member=third).status == EnrollmentStatus.ENROLLED


def test_an_open_checkout_waits_for_stripes_expiry_before_the_job_releases_it(
    stripe_api, client, maker, paid_class
):
    _enroll(client, paid_class)
    held = Enrollment.objects.get(member=maker)
    assert fees.class_fee_holds_release(now=held.fee_due_by + timedelta(minutes=5)) == 0
    assert fees.class_fee_holds_release(now=held.fee_due_by + timedelta(minutes=61)) == 1
    assert Enrollment.objects.get(pk=held.pk).status == EnrollmentStatus.CANCELLED


def test_a_no_show_is_charged_on_account_once_and_reversed_if_marked_present(
    maker, paid_class, instructor, time_machine
):
    from membership.billing.selectors import member_balances

    cert = paid_class.certification
    cert.no_show_fee_minor = 1500
    cert.save()
    enrollment = fees.enrollment_create_paid(member=maker, session=paid_class)
    time_machine.move_to(paid_class.end + timedelta(minutes=5))
    for _ in range(2):
        fees.roster_record_charging(
            session=paid_class, outcomes={enrollment.pk: "absent"}, actor=instructor
        )
    assert _ledger(maker) == [("no_show_fee", "account", 1500, "usd")]
    assert member_balances(maker)[0].on_account == 1500
    fees.roster_record_charging(
        session=paid_class, outcomes={enrollment.pk: "failed"}, actor=instructor
    )
    assert _ledger(maker)[-1] == ("no_show_fee", "account", -1500, "usd")
    assert member_balances(maker)[0].on_account == 0


def test_a_seat_paid_through_two_checkouts_is_refunded_the_second_time(
    stripe_api, deliver, client, maker, paid_class
):
    """Two tabs each opened Checkout for the same seat and both were paid: the seat is paid
    once, the second payment goes back through Stripe Refunds, both in the ledger."""
    _enroll(client, paid_class)
    enrollment = Enrollment.objects.get(member=maker)
    fees.class_fee_checkout(enrollment=enrollment, actor=maker.user)
    first, second = stripe_api.calls("post", "/v1/checkout/sessions")
    assert (
        deliver(s.event("checkout.session.completed", s.payment_session_object(first))).json()[
            "outcome"
        ]
        == "applied"
    )
    late = s.payment_session_object(second)
    assert deliver(s.event("checkout.session.completed", late)).json()["outcome"] == "applied"
    assert deliver(s.event("checkout.session.completed", late)).json()["outcome"] == "unchanged"
    (refund,) = stripe_api.calls("post", "/v1/refunds")
    assert (refund.params["payment_intent"], refund.params["amount"]) == (
        late["payment_intent"],
        "3000",
    )
    assert _ledger(maker) == [
        ("class_fee", "stripe", 3000, "usd"),
        ("class_fee", "stripe", 3000, "usd"),
        ("refund", "stripe", -3000, "usd"),
    ]
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.fee_state) == (EnrollmentStatus.ENROLLED, FeeState.PAID)


def test_a_class_fee_paid_whose_webhook_was_missed_is_confirmed_by_reconcile_once(
    stripe_api, client, maker, paid_class
):
    """The member paid in Checkout; checkout.session.completed never arrived. The dry run
    reports it; the fix run confirms the seat through the webhook's own handler; again: nothing."""
    _enroll(client, paid_class)
    (checkout,) = stripe_api.calls("post", "/v1/checkout/sessions")
    session = s.checkout_paid(stripe_api, checkout)
    enrollment = Enrollment.objects.get(member=maker)

    assert f"would fix: charge {session['payment_intent']}" in s.reconcile("--dry-run")
    enrollment.refresh_from_db()
    assert enrollment.fee_state == FeeState.DUE and _ledger(maker) == []

    assert f"fixed: charge {session['payment_intent']}" in s.reconcile()
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.fee_state, enrollment.fee_due_by) == (
        EnrollmentStatus.ENROLLED,
        FeeState.PAID,
        None,
    )
    assert _ledger(maker) == [("class_fee", "stripe", 3000, "usd")]
    assert "0 money difference(s)" in s.reconcile()
    assert _ledger(maker) == [("class_fee", "stripe", 3000, "usd")]
