"""Staff-set discounts on payments taken at the desk (manual mode's coupons; Stripe Checkout has
promotion codes): a percent or an amount off, with a reason.

The ledger entry is the amount actually paid; a `Discount` written with it keeps the list price,
what came off, why and who gave it. Neither is ever changed: a discount given in error is
undone by reversing its entry and taking the payment again.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Model
from django.utils.translation import gettext as _

from core.money import minor_step, money_format, round_minor
from membership.billing.ledger import LedgerRefused, ledger_record
from membership.billing.models import Discount, LedgerEntry
from membership.billing.wallet import credits_spend
from membership.models import Member, User

Kind = Discount.Kind
Method = LedgerEntry.Method


@dataclass(frozen=True)
class DiscountAsked:
    """What staff typed: a kind, a value (percent, or minor units off) and why."""

    kind: str
    value: int
    reason: str


@dataclass(frozen=True)
class Discounted:
    pay_minor: int
    discount_minor: int
    memo: str  # added to the entry's memo


def discount_refusal(*, asked: DiscountAsked, list_minor: int, currency: str) -> str | None:
    """Why a discount cannot be given on `list_minor`, or None (pure)."""
    if not asked.reason.strip():
        return "Say why the discount is given; the reason is kept in the ledger."
    if asked.kind == Kind.PERCENT:
        if not 1 <= asked.value <= 99:
            return "A percent discount is between 1 and 99 %."
    elif asked.kind == Kind.FIXED:
        if asked.value <= 0:
            return "An amount off is more than nothing."
        if asked.value % minor_step(currency):
            return f"{asked.value} is not an amount Stripe takes in {currency.upper()}."
    else:
        return "Choose a percent or an amount off."
    off = discount_minor(asked=asked, list_minor=list_minor, currency=currency)
    if off <= 0:
        return f"{asked.value} % of {money_format(list_minor, currency)} rounds to nothing."
    if off >= list_minor:
        return (
            f"A discount leaves something to pay: {money_format(off, currency)} off "
            f"{money_format(list_minor, currency)} is all of it."
        )
    return None


def discount_minor(*, asked: DiscountAsked, list_minor: int, currency: str) -> int:
    """What comes off, in minor units Stripe takes in `currency` (a percent rounded half up)."""
    if asked.kind == Kind.PERCENT:
        return round_minor(Decimal(list_minor) * asked.value / 100, currency)
    return asked.value


def discount_price(
    *, asked: DiscountAsked | None, list_minor: int, currency: str, actor: User
) -> Discounted | None:
    """The price after the discount staff asked for (None: no discount asked); refused with
    LedgerRefused when it cannot be given."""
    if asked is None:
        return None
    if not actor.has_perm("membership.record_payment"):
        raise LedgerRefused(_("Only staff who may take payments can give a discount."))
    refusal = discount_refusal(asked=asked, list_minor=list_minor, currency=currency)
    if refusal:
        raise LedgerRefused(refusal)
    off = discount_minor(asked=asked, list_minor=list_minor, currency=currency)
    how = f"{asked.value} %" if asked.kind == Kind.PERCENT else money_format(off, currency)
    return Discounted(
        pay_minor=list_minor - off,
        discount_minor=off,
        memo=f" (list {money_format(list_minor, currency)}, {how} off: {asked.reason.strip()})",
    )


def discount_keep(
    *, entry: LedgerEntry, asked: DiscountAsked, price: Discounted, actor: User
) -> Discount:
    """The discount's record, beside the entry that paid the discounted price."""
    return Discount.objects.create(
        entry=entry,
        kind=asked.kind,
        value=asked.value,
        list_minor=entry.amount_minor + price.discount_minor,
        discount_minor=price.discount_minor,
        reason=asked.reason.strip()[:300],
        granted_by=actor,
        created_at=entry.created_at,
    )


NO_CARD_DISCOUNT = (
    "Discounts at the desk are for cash and credits; online payments take promotion codes."
)


def desk_payment_record(
    *,
    member: Member,
    kind: str,
    method: str,
    list_minor: int,
    currency: str,
    cause: Model,
    actor: User,
    memo: str,
    discount: DiscountAsked | None = None,
) -> LedgerEntry:
    """A payment taken at the desk, in cash or from prepaid credits, at the list price or less
    the discount staff give (its record kept beside the entry). Inside the caller's transaction."""
    price = discount_price(asked=discount, list_minor=list_minor, currency=currency, actor=actor)
    amount = price.pay_minor if price else list_minor
    memo = memo + (price.memo if price else "")
    if method == Method.CREDITS:
        entry = credits_spend(
            member=member,
            amount_minor=amount,
            currency=currency,
            kind=kind,
            cause=cause,
            actor=actor,
            memo=memo,
        )
    elif method == Method.CASH:
        entry = ledger_record(
            member=member,
            kind=kind,
            method=Method.CASH,
            amount_minor=amount,
            currency=currency,
            cause=cause,
            recorded_by=actor,
            memo=memo,
        )
    else:
        raise LedgerRefused(NO_CARD_DISCOUNT)
    if discount is not None and price is not None:
        discount_keep(entry=entry, asked=discount, price=price, actor=actor)
    return entry
