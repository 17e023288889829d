"""Posting a month's machine time: once, from gate sessions, into the ledger and Stripe."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, transaction

from membership.billing import selectors as billing_selectors
from membership.billing.client import BillingUnavailable
from membership.billing.models import LedgerEntry
from metering.models import UsageCharge
from metering.services import usage_charges_post, usage_invoice_items_push
from tests.factories.equipment import MachineFactory, MachineRateFactory
from tests.factories.locations import LocationFactory
from tests.factories.membership import MembershipFactory, PlanFactory, StripeMembershipFactory

LA = ZoneInfo("America/Los_Angeles")
NOVEMBER_START = datetime(2026, 11, 1, tzinfo=LA)
OCTOBER_2 = datetime(2026, 10, 2, 18, tzinfo=LA)


def usage_entries(member):
    return LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.USAGE)


@pytest.mark.django_db
def test_posting_a_month_twice_charges_it_once(gate_session, member, ten_hours):
    """14 hours of laser time with 10 included: 4 hours charged, once, however often it runs."""
    gate_session(OCTOBER_2, 6)
    gate_session(OCTOBER_2 + timedelta(days=7), 8)
    after = NOVEMBER_START + timedelta(hours=1)

    assert usage_charges_post(now=after) == 1
    assert usage_charges_post(now=after) == 0
    assert usage_charges_post(now=after + timedelta(days=3)) == 0

    (entry,) = usage_entries(member)
    assert (entry.amount_minor, entry.currency, entry.method) == (12000, "usd", "account")
    assert entry.cause.charged_minutes == 240
    assert [
        (c.included_seconds, c.amount_minor) for c in UsageCharge.objects.order_by("part_start")
    ] == [
        (6 * 3600, 0),
        (4 * 3600, 12000),
    ]
    (balance,) = billing_selectors.member_balances(member)
    assert balance.on_account == 12000  # on the member's statement (manual billing)


@pytest.mark.django_db
def test_a_month_is_posted_only_once_it_is_over_in_the_machines_zone(gate_session, member):
    gate_session(OCTOBER_2, 1)
    assert usage_charges_post(now=NOVEMBER_START - timedelta(minutes=1)) == 0
    assert usage_charges_post(now=NOVEMBER_START) == 1
    assert usage_entries(member).get().amount_minor == 3000


@pytest.mark.django_db
def test_the_database_refuses_a_second_charge_of_the_same_session_and_month(gate_session):
    gate_session(OCTOBER_2, 1)
    usage_charges_post(now=NOVEMBER_START)
    charge = UsageCharge.objects.get()
    charge.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        charge.save()


@pytest.mark.django_db
def test_the_ledger_refuses_a_second_usage_entry_for_the_same_charge(gate_session, member):
    gate_session(OCTOBER_2, 1)
    usage_charges_post(now=NOVEMBER_START)
    entry = usage_entries(member).get()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            member=member,
            kind=entry.kind,
            method=entry.method,
            amount_minor=entry.amount_minor,
            currency=entry.currency,
            cause_type=entry.cause_type,
            cause_id=entry.cause_id,
        )


@pytest.mark.django_db
def test_a_session_still_running_is_charged_when_it_ends_each_month_once(gate_session, member):
    """A gate that crashed leaves its session open: nothing is charged until it ends; then the
    part in the month already posted is charged on its own, and each month's part once."""
    running = gate_session(datetime(2026, 10, 31, 23, 30, tzinfo=LA), None)
    assert usage_charges_post(now=NOVEMBER_START + timedelta(days=1)) == 0

    running.ended_at = datetime(2026, 11, 1, 1, 0, tzinfo=LA)
    running.save(update_fields=["ended_at"])
    assert usage_charges_post(now=NOVEMBER_START + timedelta(days=1)) == 1  # October's 30 min
    assert usage_charges_post(now=datetime(2026, 12, 1, 2, tzinfo=LA)) == 1  # November's hour
    assert usage_charges_post(now=datetime(2026, 12, 2, tzinfo=LA)) == 0
    assert sorted(usage_entries(member).values_list("amount_minor", flat=True)) == [1500, 3000]
    assert list(UsageCharge.objects.order_by("month").values_list("month", "last_part")) == [
        (date(2026, 10, 1), False),
        (date(2026, 11, 1), True),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["allowed_instructor", "allowed_maintainer"])
def test_staff_time_is_recorded_but_not_charged_unless_the_rate_says(
    gate_session, laser, member, reason
):
    gate_session(OCTOBER_2, 2, reason=reason)
    assert usage_charges_post(now=NOVEMBER_START) == 0
    assert not usage_entries(member).exists()
    assert UsageCharge.objects.get().grant in {"instructor", "maintainer"}

    laser.rate.charge_instructors = laser.rate.charge_maintainers = True
    laser.rate.save()
    gate_session(OCTOBER_2 + timedelta(days=1), 2, reason=reason)
    assert usage_charges_post(now=NOVEMBER_START) == 1


@pytest.mark.django_db
def test_sessions_before_the_machine_was_metered_and_unmetered_machines_are_not_charged(
    gate_session, laser, member
):
    laser.rate.metered_since = OCTOBER_2 + timedelta(days=1)
    laser.rate.save()
    gate_session(OCTOBER_2, 2)
    gate_session(OCTOBER_2, 2, on=MachineFactory())
    assert usage_charges_post(now=NOVEMBER_START) == 0
    assert not UsageCharge.objects.exists()


@pytest.mark.django_db
def test_a_whole_month_in_won_charges_whole_won(gate_session):
    """A Seoul space in KRW: ₩200 a minute in 10-minute steps; 10,000 won is `10000`."""
    seoul = LocationFactory(time_zone="Asia/Seoul")
    rate = MachineRateFactory(
        machine__location=seoul,
        per_minute_minor=200,
        currency="krw",
        step_minutes=10,
        minimum_minor=3000,
    )
    member = MembershipFactory(
        plan=PlanFactory(name="Seoul", currency="krw", monthly_price_cents=100000, is_default=False)
    ).member
    # 23:50 on 31 October in Seoul (14:50 UTC), for 25 minutes: October's 10, November's 15.
    start = datetime(2026, 10, 31, 14, 50, tzinfo=UTC)
    gate_session(start, 25 / 60, on=rate.machine, who=member)
    assert usage_charges_post(now=datetime(2026, 12, 1, tzinfo=ZoneInfo("Asia/Seoul"))) == 2
    entries = usage_entries(member).order_by("cause_id")
    # October: 10 minutes, ₩2,000, raised to the ₩3,000 minimum; November: 20 minutes, ₩4,000.
    assert [(e.amount_minor, e.currency) for e in entries] == [(3000, "krw"), (4000, "krw")]
    assert str(entries[1]) == "Machine time ₩4,000"


@pytest.mark.django_db
def test_stripe_mode_puts_the_months_charges_on_the_subscriptions_next_invoice(
    stripe_api, gate_session, laser
):
    """One invoice item per machine and month, whatever the number of sessions."""
    membership = StripeMembershipFactory()
    gate_session(OCTOBER_2, 2, who=membership.member)
    gate_session(OCTOBER_2 + timedelta(days=3), 0.5, who=membership.member)
    assert usage_charges_post(now=NOVEMBER_START) == 2
    assert usage_invoice_items_push() == 1
    assert usage_invoice_items_push() == 0  # done: the item's id is kept

    (call,) = stripe_api.calls("post", "/v1/invoiceitems")
    charges = list(UsageCharge.objects.order_by("part_start"))
    batch = charges[0].invoice_batch
    assert call.params == {
        "customer": membership.stripe_customer_id,
        "subscription": membership.stripe_subscription_id,
        "amount": "7500",  # 120 minutes ($60) and 30 ($15)
        "currency": "usd",
        "description": "Laser cutter: 150 min in October 2026 (2 sessions)",
        "period[start]": str(int(OCTOBER_2.timestamp())),
        "period[end]": str(int((OCTOBER_2 + timedelta(days=3, minutes=30)).timestamp())),
        "metadata[toolgate_kind]": "usage",
        "metadata[toolgate_ref]": str(batch),
    }
    assert call.headers["Idempotency-Key"] == f"toolgate-usage-{batch}"
    assert {(c.billing, c.invoice_batch, c.stripe_invoice_item_id) for c in charges} == {
        ("invoice", batch, call.answer["id"])
    }
    entries = usage_entries(membership.member)
    assert sorted((e.method, e.amount_minor) for e in entries) == [
        ("account", 1500),
        ("account", 6000),
    ]


@pytest.mark.django_db
def test_a_session_charged_late_goes_on_an_invoice_item_of_its_own(stripe_api, gate_session):
    membership = StripeMembershipFactory()
    gate_session(OCTOBER_2, 1, who=membership.member)
    crashed = gate_session(OCTOBER_2 + timedelta(days=1), None, who=membership.member)
    usage_charges_post(now=NOVEMBER_START)
    usage_invoice_items_push()
    crashed.ended_at = crashed.started_at + timedelta(hours=1)
    crashed.save(update_fields=["ended_at"])
    usage_charges_post(now=NOVEMBER_START + timedelta(days=1))
    usage_invoice_items_push()
    calls = stripe_api.calls("post", "/v1/invoiceitems")
    assert [c.params["amount"] for c in calls] == ["3000", "3000"]
    assert len({c.headers["Idempotency-Key"] for c in calls}) == 2


@pytest.mark.django_db
def test_stripe_unreachable_keeps_the_charge_for_the_next_run(stripe_api, gate_session, laser):
    membership = StripeMembershipFactory()
    gate_session(OCTOBER_2, 2, who=membership.member)
    usage_charges_post(now=NOVEMBER_START)
    stripe_api.fail_with_status = 500
    with pytest.raises(BillingUnavailable):
        usage_invoice_items_push()
    assert UsageCharge.objects.get().stripe_invoice_item_id == ""

    stripe_api.fail_with_status = None
    assert usage_invoice_items_push() == 1
    keys = {r.headers["Idempotency-Key"] for r in stripe_api.calls("post", "/v1/invoiceitems")}
    assert len(keys) == 1  # the retry is the same request: Stripe makes one item


@pytest.mark.django_db
def test_members_without_a_subscription_stay_on_the_statement_in_stripe_mode(
    stripe_api, gate_session, member
):
    gate_session(OCTOBER_2, 2)
    usage_charges_post(now=NOVEMBER_START)
    assert usage_invoice_items_push() == 0
    assert UsageCharge.objects.get().billing == "statement"
    assert stripe_api.calls("post", "/v1/invoiceitems") == []


@pytest.mark.django_db
def test_an_invoice_item_in_won_sends_whole_won(stripe_api, gate_session):
    """Zero-decimal: 20 minutes at ₩200 is `4000` on the wire, as in the ledger."""
    rate = MachineRateFactory(
        per_minute_minor=200, currency="krw", step_minutes=10, minimum_minor=0
    )
    plan = PlanFactory(name="Seoul", currency="krw", monthly_price_cents=100000, is_default=False)
    membership = StripeMembershipFactory(plan=plan)
    gate_session(OCTOBER_2, 20 / 60, on=rate.machine, who=membership.member)
    usage_charges_post(now=NOVEMBER_START)
    usage_invoice_items_push()
    (call,) = stripe_api.calls("post", "/v1/invoiceitems")
    assert (call.params["amount"], call.params["currency"]) == ("4000", "krw")
    assert usage_entries(membership.member).get().amount_minor == 4000


@pytest.mark.django_db
def test_the_command_runs_beats_job_once_now(gate_session, member):
    gate_session(OCTOBER_2, 1)
    out = io.StringIO()
    with time_machine.travel(NOVEMBER_START + timedelta(minutes=20), tick=False):
        call_command("post_usage_charges", stdout=out)
        call_command("post_usage_charges", stdout=out)
    assert out.getvalue().splitlines() == [
        "1 session part(s) charged, 0 invoice item(s).",
        "0 session part(s) charged, 0 invoice item(s).",
    ]
    assert usage_entries(member).get().occurred_at == NOVEMBER_START + timedelta(minutes=20)
