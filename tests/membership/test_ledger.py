"""The ledger: immutable entries in minor units, balances as sums, reversals and refunds."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction

from membership import services
from membership.billing import selectors
from membership.billing.ledger import (
    LedgerRefused,
    ledger_record,
    ledger_refund,
    ledger_reverse,
    refundable_minor,
)
from membership.models import LedgerEntry, LedgerImmutable, Payment
from tests.factories.membership import MembershipFactory, PlanFactory

Kind, Method = LedgerEntry.Kind, LedgerEntry.Method


@pytest.fixture
def cash(member, staff_user):
    """The member's monthly membership paid in cash: $100.00."""
    payment = services.payment_record_manual(member=member, actor=staff_user)
    return LedgerEntry.objects.get(cause_id=payment.pk, kind=Kind.MEMBERSHIP)


def test_a_manual_payment_is_one_entry_in_minor_units(member, staff_user, cash):
    payment = Payment.objects.get(member=member)
    assert (cash.amount_minor, cash.currency, cash.method) == (10000, "usd", Method.CASH)
    assert cash.cause == payment
    assert cash.recorded_by == staff_user
    assert str(cash) == "Membership $100.00"
    (balance,) = selectors.member_balances(member)
    assert (balance.currency, balance.paid, balance.credits, balance.on_account) == (
        "usd",
        10000,
        0,
        0,
    )


def test_an_entry_cannot_be_changed_or_deleted_through_django(cash):
    cash.amount_minor = 1
    with pytest.raises(LedgerImmutable):
        cash.save()
    with pytest.raises(LedgerImmutable):
        cash.delete()
    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.filter(pk=cash.pk).update(amount_minor=1)
    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.filter(pk=cash.pk).delete()
    cash.refresh_from_db()
    assert cash.amount_minor == 10000


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE membership_ledgerentry SET amount_minor = 1 WHERE id = %s",
        "DELETE FROM membership_ledgerentry WHERE id = %s",
    ],
)
def test_the_database_itself_refuses_to_change_or_delete_an_entry(cash, statement):
    """Raw SQL, past every Python guard: the trigger refuses (PostgreSQL and SQLite)."""
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [cash.pk])
    assert LedgerEntry.objects.get(pk=cash.pk).amount_minor == 10000


@pytest.mark.django_db(transaction=True)
def test_emptying_the_whole_database_still_works(settings):
    """`manage.py flush` (and each transactional test's teardown) empties the ledger too."""
    membership = MembershipFactory()
    services.payment_record_manual(member=membership.member, actor=membership.member.user)
    assert LedgerEntry.objects.count() == 1
    call_command("flush", interactive=False, verbosity=0)
    assert LedgerEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount_minor", 0), ("currency", "USD"), ("currency", "usdx")],
)
def test_the_database_refuses_zero_amounts_and_odd_currencies(cash, field, value):
    row = {f.attname: getattr(cash, f.attname) for f in LedgerEntry._meta.concrete_fields}
    row.pop("id")
    row[field] = value
    # PostgreSQL's varchar(3) refuses "usdx" before the check does (DataError).
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        LedgerEntry.objects.create(**row)


@pytest.mark.parametrize(
    ("amount", "currency", "says"),
    [
        (0, "usd", "non-zero"),
        (1.5, "usd", "whole"),
        (100, "dollars", "three-letter"),
        (1235, "bhd", "not an amount Stripe takes"),
    ],
)
def test_the_service_refuses_amounts_stripe_would_not_take(member, cash, amount, currency, says):
    with pytest.raises(LedgerRefused, match=says):
        ledger_record(
            member=member,
            kind=Kind.ADJUSTMENT,
            method=Method.CASH,
            amount_minor=amount,
            currency=currency,
            cause=member,
        )


def test_a_mistake_is_corrected_by_a_reversing_entry(member, staff_user, cash):
    reversal = ledger_reverse(entry=cash, actor=staff_user, reason="Paid by card, not cash")
    assert (reversal.amount_minor, reversal.kind, reversal.method) == (
        -10000,
        Kind.MEMBERSHIP,
        "cash",
    )
    assert reversal.reverses == cash and reversal.cause == cash.cause
    assert reversal.memo == f"Reverses entry {cash.pk}: Paid by card, not cash"
    assert LedgerEntry.objects.filter(member=member).count() == 2  # the mistake stays
    assert selectors.member_balances(member)[0].paid == 0
    with pytest.raises(LedgerRefused, match="already been reversed"):
        ledger_reverse(entry=cash, actor=staff_user, reason="again")
    with pytest.raises(LedgerRefused, match="cannot itself be reversed"):
        ledger_reverse(entry=reversal, actor=staff_user, reason="undo")


def test_a_reversal_needs_a_reason(staff_user, cash):
    with pytest.raises(LedgerRefused, match="Say why"):
        ledger_reverse(entry=cash, actor=staff_user, reason="  ")


def test_money_through_stripe_is_refunded_not_reversed(member, staff_user):
    entry = ledger_record(
        member=member,
        kind=Kind.MEMBERSHIP,
        method=Method.STRIPE,
        amount_minor=10000,
        currency="usd",
        cause=member,
        stripe_object_id="in_Tg1",
    )
    with pytest.raises(LedgerRefused, match="refund it instead"):
        ledger_reverse(entry=entry, actor=staff_user, reason="typo")


def test_refunds_never_give_back_more_than_was_paid(member, staff_user, cash):
    ledger_refund(payment=cash, amount_minor=4000, recorded_by=staff_user, memo="part")
    assert refundable_minor(cash) == 6000
    with pytest.raises(LedgerRefused, match=r"more than is left of that payment \(\$60.00\)"):
        ledger_refund(payment=cash, amount_minor=6001, recorded_by=staff_user, memo="too much")
    with pytest.raises(LedgerRefused, match="positive"):
        ledger_refund(payment=cash, amount_minor=-5, recorded_by=staff_user, memo="negative")
    ledger_refund(payment=cash, amount_minor=6000, recorded_by=staff_user, memo="rest")
    assert refundable_minor(cash) == 0
    assert selectors.member_balances(member)[0].paid == 0
    with pytest.raises(LedgerRefused, match="reverse the refunds first"):
        ledger_reverse(entry=cash, actor=staff_user, reason="oops")


def test_one_stripe_object_is_in_the_ledger_once(member):
    def record():
        return ledger_record(
            member=member,
            kind=Kind.CLASS_FEE,
            method=Method.STRIPE,
            amount_minor=3000,
            currency="usd",
            cause=member,
            stripe_object_id="pi_Tg42",
        )

    record()
    with pytest.raises(LedgerRefused, match="pi_Tg42 is already in the ledger"):
        record()
    assert LedgerEntry.objects.filter(stripe_object_id="pi_Tg42").count() == 1


def test_balances_are_sums_per_currency_and_credits_follow_their_method(member):
    def entry(kind, method, amount, currency="usd"):
        ledger_record(
            member=member,
            kind=kind,
            method=method,
            amount_minor=amount,
            currency=currency,
            cause=member,
        )

    entry(Kind.CREDIT_PURCHASE, Method.CASH, 5000)  # $50 of credits bought in cash
    entry(Kind.MATERIAL, Method.CREDITS, 1200)  # acrylic paid from credits
    entry(Kind.REFUND, Method.CREDITS, -200)  # part of it given back onto credits
    entry(Kind.USAGE, Method.ACCOUNT, 900)  # laser time for the next invoice
    entry(Kind.CLASS_FEE, Method.CASH, 30000, currency="krw")
    krw, usd = selectors.member_balances(member)
    assert (krw.currency, krw.paid, krw.credits) == ("krw", 30000, 0)
    assert (usd.paid, usd.credits, usd.on_account) == (5000, 4000, 900)
    assert selectors.member_credit_balance(member, "usd") == 4000


def test_payments_made_before_the_ledger_are_carried_into_it(member, staff_user):
    """Migration 0005 turned every existing Payment into its entry (tested on the function)."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("membership.migrations.0005_ledger")
    payment = Payment.objects.create(
        member=member,
        amount_cents=7500,
        currency="usd",
        method=Payment.Method.STRIPE,
        period_start=member.joined_at,
        period_end=member.joined_at,
        stripe_invoice_id="in_TgOld",
    )
    migration.payments_to_ledger(apps, None)
    entry = LedgerEntry.objects.get(cause_id=payment.pk)
    assert (entry.amount_minor, entry.method, entry.stripe_object_id) == (
        7500,
        "stripe",
        "in_TgOld",
    )


def test_a_whole_manual_flow_in_korean_won(settings, staff_user):
    """KRW has no minor unit: a ₩50,000 membership is 50000 everywhere, shown as ₩50,000."""
    settings.SPACE_LOCALE = "ko_KR"
    plan = PlanFactory(name="월 회원", monthly_price_cents=50000, currency="krw")
    member = MembershipFactory(plan=plan).member
    services.payment_record_manual(member=member, actor=staff_user)
    (entry,) = LedgerEntry.objects.filter(member=member)
    assert (entry.amount_minor, entry.currency) == (50000, "krw")
    assert str(entry) == "Membership ₩50,000"
    assert plan.price_display == "₩50,000"
    assert "₩50,000" in member.membership.changes.get().reason
    refund = ledger_refund(payment=entry, amount_minor=20000, recorded_by=staff_user, memo="x")
    assert str(refund) == "Refund -₩20,000"
    assert selectors.member_balances(member)[0].paid == 30000
