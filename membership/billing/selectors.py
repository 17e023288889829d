"""What the billing pages show: the mode, the membership's billing state, the event history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from membership import selectors
from membership.billing.config import MANUAL, billing_mode
from membership.billing.models import LedgerEntry, StripeRefund
from membership.billing.services import membership_can_join_online, membership_has_online_billing
from membership.models import Member, Membership, StripeEvent
from staffing.selectors import EVERYWHERE, Scope

Kind = LedgerEntry.Kind
Method = LedgerEntry.Method

CHECKOUT_PATIENCE = timedelta(minutes=2)


def billing_overview(
    member: Member, *, checkout_returned: bool = False, waiting_since: datetime | None = None
) -> dict[str, object]:
    """The member billing page's state: manual or Stripe, join, pending or manage.

    Back from Checkout, the page waits `waiting_since` onwards for Stripe's webhook; after
    CHECKOUT_PATIENCE it stops polling and says what to do instead of "a few seconds" forever.
    """
    membership = Membership.objects.select_related("plan").filter(member=member).first()
    mode = billing_mode()
    now = timezone.now()
    in_good_standing = selectors.membership_in_good_standing(membership, at=now)
    confirmed = (
        membership is not None and bool(membership.stripe_subscription_id) and in_good_standing
    )
    waiting_since = min(waiting_since or now, now)
    unconfirmed = checkout_returned and not confirmed
    slow = unconfirmed and now - waiting_since > CHECKOUT_PATIENCE
    return {
        "billing_mode": mode,
        "manual_billing": mode == MANUAL,
        "membership": membership,
        "in_good_standing": in_good_standing,
        # Back from Checkout, the webhook may not have arrived yet: say so instead of "join".
        "checkout_pending": unconfirmed and not slow,
        "checkout_slow": slow,
        "waiting_since": int(waiting_since.timestamp()),
        "checkout_confirmed": checkout_returned and confirmed,
        "can_join": membership_can_join_online(membership) and not checkout_returned,
        "can_join_plan_ready": membership is not None and bool(membership.plan.stripe_price_id),
        "can_manage": membership_has_online_billing(membership),
    }


def membership_stripe_events(membership: Membership | None) -> QuerySet[StripeEvent]:
    if membership is None:
        return StripeEvent.objects.none()
    return membership.stripe_events.order_by("-received_at", "-id")


@dataclass(frozen=True)
class Balance:
    """A member's money in one currency, each figure a sum of ledger entries (minor units)."""

    currency: str
    paid: int  # real money the member paid, less refunds (cash and Stripe)
    credits: int  # prepaid credits left to spend
    on_account: int  # charged onto their account, for the next invoice or statement


def member_ledger(member: Member) -> QuerySet[LedgerEntry]:
    """The member's entries, newest first, with what the page shows of each."""
    return LedgerEntry.objects.filter(member=member).select_related(
        "recorded_by", "cause_type", "reverses", "refund_of"
    )


def _sums(entries: QuerySet[LedgerEntry]) -> dict[str, int]:
    rows = entries.values("currency").annotate(total=Sum("amount_minor"))
    return {row["currency"]: row["total"] or 0 for row in rows}


def member_balances(member: Member) -> list[Balance]:
    """One balance per currency the member ever moved money in.

    Credits: bought credits (a credit purchase adds its amount) less everything paid from them
    (spends, expiries, refunds back onto credits subtract, being entries by method "credits").
    """
    entries = LedgerEntry.objects.filter(member=member)
    real = _sums(entries.filter(method__in=[Method.CASH, Method.STRIPE]))
    bought = _sums(entries.filter(kind=Kind.CREDIT_PURCHASE))
    spent = _sums(entries.filter(method=Method.CREDITS))
    account = _sums(entries.filter(method=Method.ACCOUNT))
    currencies = sorted({*real, *bought, *spent, *account})
    return [
        Balance(
            currency=code,
            paid=real.get(code, 0),
            credits=bought.get(code, 0) - spent.get(code, 0),
            on_account=account.get(code, 0),
        )
        for code in currencies
    ]


def member_credit_balance(member: Member, currency: str) -> int:
    """Prepaid credits left in `currency` (minor units)."""
    entries = LedgerEntry.objects.filter(member=member, currency=currency)
    bought = entries.filter(kind=Kind.CREDIT_PURCHASE).aggregate(t=Sum("amount_minor"))["t"]
    spent = entries.filter(method=Method.CREDITS).aggregate(t=Sum("amount_minor"))["t"]
    return (bought or 0) - (spent or 0)


@dataclass(frozen=True)
class TakingsRow:
    method: str
    method_label: str
    currency: str
    entries: int
    total: int  # minor units, refunds included (negative)


def takings_between(
    start: datetime, end: datetime, *, scope: Scope = EVERYWHERE
) -> list[TakingsRow]:
    """Money that moved in [start, end), per payment method and currency: cash and Stripe are
    takings; credits and on-account show what was spent or charged without money moving. Only
    the members (by home location) of the locations in `scope`."""
    rows = (
        _entries_between(start, end, scope=scope)
        .values("method", "currency")
        .annotate(total=Sum("amount_minor"), entries=Count("id"))
        .order_by("method", "currency")
    )
    labels = dict(Method.choices)
    return [
        TakingsRow(
            method=row["method"],
            method_label=labels.get(row["method"], row["method"]),
            currency=row["currency"],
            entries=row["entries"],
            total=row["total"] or 0,
        )
        for row in rows
    ]


def _entries_between(start: datetime, end: datetime, *, scope: Scope) -> QuerySet[LedgerEntry]:
    """Entries in [start, end) of the members (by home location) of the locations in `scope`."""
    return scope.filter(LedgerEntry.objects.all(), "member__home_location").filter(
        occurred_at__gte=start, occurred_at__lt=end
    )


# Where money moved: the takings. Credits and on-account entries move none (yet).
MONEY_METHODS = (Method.CASH, Method.STRIPE)


@dataclass(frozen=True)
class TakingsDay:
    day: date  # local
    kind: str
    currency: str
    entries: int
    total: int  # minor units, refunds included (negative)


def takings_per_day(
    start: datetime, end: datetime, *, zone: tzinfo, scope: Scope = EVERYWHERE
) -> list[TakingsDay]:
    """Money that moved (cash and Stripe) in [start, end), per local day in `zone`, kind and
    currency, summed in one query: the daily takings page's figures over many days."""
    rows = (
        _entries_between(start, end, scope=scope)
        .filter(method__in=MONEY_METHODS)
        .annotate(day=TruncDate("occurred_at", tzinfo=zone))
        .values("day", "kind", "currency")
        .annotate(total=Sum("amount_minor"), entries=Count("id"))
        .order_by("day", "kind", "currency")
    )
    return [
        TakingsDay(r["day"], r["kind"], r["currency"], r["entries"], r["total"] or 0) for r in rows
    ]


def ledger_between(
    start: datetime, end: datetime, *, scope: Scope = EVERYWHERE
) -> QuerySet[LedgerEntry]:
    return (
        _entries_between(start, end, scope=scope)
        .select_related("member__user", "recorded_by")
        .order_by("occurred_at", "id")
    )


def member_refunds_open(member: Member) -> QuerySet[StripeRefund]:
    """Card refunds of the member's payments not in the ledger yet: on their way to Stripe
    (requested, perhaps being retried) or failed (staff may try them again)."""
    return (
        StripeRefund.objects.filter(payment__member=member)
        .exclude(state=StripeRefund.State.SUCCEEDED)
        .select_related("payment", "requested_by")
        .order_by("-created_at", "-id")
    )
