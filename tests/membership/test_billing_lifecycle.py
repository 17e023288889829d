"""A month of a Stripe membership with time frozen: paid, failed, grace, lapsed, paid again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from membership import selectors, services
from membership.billing.lapse import membership_lapse, memberships_lapse, memberships_lapse_due
from membership.models import ChangeCause, MembershipStatus, Payment
from tests.factories.membership import (
    BadgeFactory,
    MembershipFactory,
    StripePlanFactory,
    UserFactory,
    WaiverFactory,
    WaiverSignatureFactory,
    ready_member,
)
from tests.membership import stripe_support as s

JOINED = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)


def _subscription(stripe_api, membership, *, status, start):
    subscription = s.subscription_object(
        subscription_id=membership.stripe_subscription_id or s.new_id("sub"),
        customer=membership.stripe_customer_id,
        status=status,
        period_start=start,
        period_end=start + relativedelta(months=1),
        membership_id=membership.pk,
    )
    stripe_api.subscriptions[subscription["id"]] = subscription
    return subscription


def test_a_month_of_membership(
    stripe_api, deliver, client, time_machine, access_lost, django_capture_on_commit_callbacks
):
    time_machine.move_to(JOINED, tick=False)
    StripePlanFactory()
    user = UserFactory()
    client.force_login(user)
    member = services.member_get_or_create(user=user)
    WaiverSignatureFactory(member=member, waiver=WaiverFactory())
    BadgeFactory(member=member)
    membership = member.membership

    # Join: Checkout, back on the billing page before the webhook arrives.
    page = client.get(reverse("membership_billing")).content.decode()
    token = page.split('name="form_token" value="')[1].split('"')[0]
    response = client.post(reverse("billing_checkout"), {"form_token": token})
    assert response["Location"].startswith("https://checkout.stripe.com/")
    membership.refresh_from_db()
    pending = client.get(reverse("membership_billing") + "?checkout=success&session_id=cs_x")
    assert 'data-checkout="pending"' in pending.content.decode()
    assert not selectors.member_may_use_machines(member)

    # Paid: Stripe sends the subscription, the session and the first invoice.
    subscription = _subscription(stripe_api, membership, status="active", start=JOINED)
    first_invoice = s.invoice_object(
        subscription=subscription, paid=True, billing_reason="subscription_create"
    )
    for event in [
        s.event("customer.subscription.created", subscription),
        s.event(
            "checkout.session.completed",
            s.checkout_session_object(
                membership_id=membership.pk,
                customer=membership.stripe_customer_id,
                subscription_id=subscription["id"],
            ),
        ),
        s.event("invoice.paid", first_invoice),
    ]:
        assert deliver(event).status_code == 200
    fragment = client.get(reverse("billing_status")).content.decode()
    assert 'data-checkout="confirmed"' in fragment and "hx-trigger" not in fragment
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.current_period_end == datetime(2026, 2, 5, 18, 0, tzinfo=UTC)
    assert selectors.member_may_use_machines(member)

    # Failed: the renewal charge is declined; Stripe moves the period on and marks it past due.
    renewal = datetime(2026, 2, 5, 19, 0, tzinfo=UTC)
    time_machine.move_to(renewal, tick=False)
    subscription = _subscription(
        stripe_api, membership, status="past_due", start=datetime(2026, 2, 5, 18, 0, tzinfo=UTC)
    )
    failed_invoice = s.invoice_object(subscription=subscription, paid=False)
    assert deliver(s.event("invoice.payment_failed", failed_invoice)).status_code == 200
    assert (
        deliver(
            s.event("customer.subscription.updated", subscription, previous={"status": "active"})
        ).status_code
        == 200
    )
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PAST_DUE
    assert membership.current_period_end == datetime(2026, 2, 5, 18, 0, tzinfo=UTC)
    failed_mail = mail.outbox[-1]
    assert failed_mail.subject.endswith("Your membership payment failed")
    assert "https://space.example.org/billing/portal/" in failed_mail.body

    # Grace: three days after the paid period, machines still work and nothing lapses.
    time_machine.move_to(datetime(2026, 2, 8, 17, 59, tzinfo=UTC), tick=False)
    assert selectors.member_may_use_machines(member)
    with django_capture_on_commit_callbacks(execute=True):
        assert memberships_lapse() == 0
    assert access_lost == []

    # Lapsed: grace is over; the periodic run records it once and tells the gate once.
    time_machine.move_to(datetime(2026, 2, 8, 18, 1, tzinfo=UTC), tick=False)
    assert not selectors.member_may_use_machines(member)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("lapse_memberships", stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert memberships_lapse() == 0
    assert access_lost == [member.pk]
    lapse = membership.changes.first()
    assert lapse.cause == "system" and "Grace period ended" in lapse.reason

    # Paid again: the member fixes the card in the portal, Stripe retries and succeeds.
    time_machine.move_to(datetime(2026, 2, 9, 12, 0, tzinfo=UTC), tick=False)
    client.force_login(user)  # a month later the session has expired
    portal = client.post(reverse("billing_portal"))
    assert portal["Location"].startswith("https://billing.stripe.com/")
    subscription = _subscription(
        stripe_api, membership, status="active", start=datetime(2026, 2, 5, 18, 0, tzinfo=UTC)
    )
    retried = dict(failed_invoice, status="paid", amount_paid=10000, amount_remaining=0)
    assert deliver(s.event("invoice.paid", retried)).status_code == 200
    assert (
        deliver(
            s.event("customer.subscription.updated", subscription, previous={"status": "past_due"})
        ).json()["outcome"]
        == "unchanged"
    )
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.current_period_end == datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
    assert selectors.member_may_use_machines(member)
    assert access_lost == [member.pk]

    assert [(c.from_status, c.to_status, c.cause) for c in membership.changes.reverse()] == [
        ("pending", "active", "stripe"),
        ("active", "past_due", "stripe"),
        ("past_due", "past_due", "system"),
        ("past_due", "active", "stripe"),
    ]
    assert Payment.objects.filter(member=member, method="stripe").count() == 2
    assert [m.subject.split("] ")[1] for m in mail.outbox] == [
        "Welcome: your membership is active",
        "Your membership payment failed",
    ]


def test_an_unpaid_manual_membership_lapses_once_and_a_payment_restores_it(
    time_machine, access_lost, staff_user, django_capture_on_commit_callbacks
):
    """Manual billing: after the paid month and grace, the lapse is recorded; paying restores."""
    time_machine.move_to(JOINED, tick=False)
    member = ready_member(current_period_end=JOINED + timedelta(days=2))
    time_machine.move_to(JOINED + timedelta(days=5, seconds=1), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert memberships_lapse() == 1
        assert memberships_lapse() == 0
    member.membership.refresh_from_db()
    assert member.membership.status == MembershipStatus.PAST_DUE
    assert access_lost == [member.pk]
    services.payment_record_manual(member=member, actor=staff_user)
    assert selectors.member_may_use_machines(member)


def test_a_member_without_access_before_the_lapse_is_not_reported_to_the_gate(
    db, time_machine, access_lost, django_capture_on_commit_callbacks
):
    """No badge, no running machine: the lapse is recorded but the gate is not told."""
    time_machine.move_to(JOINED, tick=False)
    membership = MembershipFactory(
        status=MembershipStatus.PAST_DUE, current_period_end=JOINED - timedelta(days=4)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert memberships_lapse() == 1
    assert membership.changes.get().cause == "system"
    assert access_lost == []


PAID_THROUGH = JOINED + timedelta(days=2)
GRACE_ENDS = PAID_THROUGH + timedelta(days=3)


def test_the_lapse_is_due_the_moment_grace_ends_and_not_before(
    db, time_machine, access_lost, django_capture_on_commit_callbacks
):
    """Three days after the paid-through date, to the microsecond, the lapse is recorded."""
    time_machine.move_to(JOINED, tick=False)
    member = ready_member(current_period_end=PAID_THROUGH)
    time_machine.move_to(GRACE_ENDS - timedelta(microseconds=1), tick=False)
    assert selectors.member_may_use_machines(member)
    with django_capture_on_commit_callbacks(execute=True):
        assert memberships_lapse() == 0
    time_machine.move_to(GRACE_ENDS, tick=False)
    assert not selectors.member_may_use_machines(member)
    with django_capture_on_commit_callbacks(execute=True):
        assert memberships_lapse() == 1
    assert access_lost == [member.pk]


def test_the_lapse_says_since_when_and_the_gate_says_why(
    db, time_machine, gate_calls, django_capture_on_commit_callbacks
):
    """Staff read when it was last paid for (in the space's zone); the member at the machine
    reads why it stopped."""
    time_machine.move_to(JOINED, tick=False)
    member = ready_member(current_period_end=PAID_THROUGH)
    time_machine.move_to(GRACE_ENDS, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert memberships_lapse() == 1
    change = member.membership.changes.get()
    assert (change.from_status, change.to_status, change.cause) == (
        MembershipStatus.ACTIVE,
        MembershipStatus.PAST_DUE,
        ChangeCause.SYSTEM,
    )
    assert change.reason == (
        "Grace period ended: not paid since 2026-01-07 10:00; machine access stopped"
    )
    assert [(kw["reason"], kw["message"]) for name, kw in gate_calls] == [
        ("access_lost", "Your membership lapsed: pay it to use machines again.")
    ]


def _pay(member, staff_user):
    services.payment_record_manual(member=member, actor=staff_user)


def _cancel(member, staff_user):
    services.membership_set_status(
        membership=member.membership,
        status=MembershipStatus.CANCELED,
        reason="Moved away",
        cause=ChangeCause.STAFF,
    )


def _lapse(member, staff_user):
    assert membership_lapse(membership_id=member.membership.pk)


@pytest.mark.parametrize(
    ("meanwhile", "status", "told"),
    [
        (_pay, MembershipStatus.ACTIVE, 0),
        (_cancel, MembershipStatus.CANCELED, 0),
        (_lapse, MembershipStatus.PAST_DUE, 1),
    ],
    ids=["paid", "canceled", "lapsed by another run"],
)
def test_a_lapse_found_due_is_checked_again_when_recorded(
    time_machine,
    staff_user,
    gate_calls,
    django_capture_on_commit_callbacks,
    meanwhile,
    status,
    told,
):
    """A payment, a cancellation or another run between finding a lapse due and recording it
    wins: nothing more is recorded and the gate is not told (again)."""
    time_machine.move_to(JOINED, tick=False)
    member = ready_member(current_period_end=PAID_THROUGH)
    time_machine.move_to(GRACE_ENDS, tick=False)
    assert memberships_lapse_due(now=GRACE_ENDS) == [member.membership.pk]
    with django_capture_on_commit_callbacks(execute=True):
        meanwhile(member, staff_user)
        changes = member.membership.changes.count()
        told_before = len(gate_calls.members())
        assert membership_lapse(membership_id=member.membership.pk) is False
    member.membership.refresh_from_db()
    assert member.membership.status == status
    assert member.membership.changes.count() == changes
    assert len(gate_calls.members()) == told_before == told


def test_the_lapse_job_picks_exactly_the_memberships_whose_grace_ended_unrecorded(db):
    """Due: active or past due, paid through three days or more ago, this lapse not yet recorded
    (a lapse recorded for an earlier paid-through date does not count)."""
    due = [
        MembershipFactory(status=MembershipStatus.ACTIVE, current_period_end=PAID_THROUGH),
        MembershipFactory(
            status=MembershipStatus.PAST_DUE, current_period_end=PAID_THROUGH - timedelta(days=9)
        ),
        MembershipFactory(
            status=MembershipStatus.PAST_DUE,
            current_period_end=PAID_THROUGH,
            lapse_recorded_for=PAID_THROUGH - relativedelta(months=1),
        ),
    ]
    for status, paid_through, recorded in [
        (MembershipStatus.ACTIVE, PAID_THROUGH + timedelta(microseconds=1), None),
        (MembershipStatus.PAST_DUE, PAID_THROUGH, PAID_THROUGH),
        (MembershipStatus.CANCELED, PAID_THROUGH, None),
        (MembershipStatus.PENDING, PAID_THROUGH, None),
        (MembershipStatus.ACTIVE, None, None),
    ]:
        MembershipFactory(
            status=status, current_period_end=paid_through, lapse_recorded_for=recorded
        )
    assert sorted(memberships_lapse_due(now=GRACE_ENDS)) == sorted(m.pk for m in due)
