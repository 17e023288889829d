"""Writing the ledger: record a money movement, reverse a mistaken one, refund part of a payment.

Every other app records money through these, inside its own atomic block, so the entry commits
with the change it pays for (an enrollment, a sale) or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Model, Q, Sum
from django.utils.translation import gettext as _

from core import clock
from core.money import CurrencyError, currency_code, minor_step, money_format
from core.submissions import submission_claim
from membership.billing.models import LedgerEntry
from membership.errors import MembershipError
from membership.models import Member, User


class LedgerRefused(MembershipError):
    """A money movement that cannot be recorded as asked (the message says why)."""


Kind = LedgerEntry.Kind
Method = LedgerEntry.Method

# What a change in what is left of a payment means beyond the ledger (a refunded day pass opens
# no machine; one whose refund staff undo opens again), by the kind of the payment: each app
# registers its own at start-up. The handler runs inside the refund's or reversal's transaction,
# after the entry, so both commit together or not at all; it reads what is left
# (`payments_net_minor`) and may refuse (LedgerRefused), which undoes the entry too.
PaymentChangedHandler = Callable[[LedgerEntry], None]
_changed_handlers: dict[str, PaymentChangedHandler] = {}


def payment_changed_handler_register(kind: str, handler: PaymentChangedHandler) -> None:
    _changed_handlers[kind] = handler


def _payment_changed(payment: LedgerEntry) -> None:
    handler = _changed_handlers.get(payment.kind)
    if handler is not None:
        handler(payment)


def ledger_record(
    *,
    member: Member,
    kind: str,
    method: str,
    amount_minor: int,
    currency: str,
    cause: Model,
    recorded_by: User | None = None,
    stripe_object_id: str = "",
    memo: str = "",
    occurred_at: datetime | None = None,
    refund_of: LedgerEntry | None = None,
    reverses: LedgerEntry | None = None,
) -> LedgerEntry:
    """One new entry. A Stripe object already recorded raises LedgerRefused (never twice)."""
    if kind not in Kind.values:
        raise LedgerRefused(_("%(kind)s is not a kind of ledger entry.") % {"kind": repr(kind)})
    if method not in Method.values:
        raise LedgerRefused(_("%(method)s is not a way of paying.") % {"method": repr(method)})
    if type(amount_minor) is not int or amount_minor == 0:
        raise LedgerRefused(_("A ledger entry moves a whole, non-zero number of minor units."))
    try:
        code = currency_code(currency)
    except CurrencyError as error:
        raise LedgerRefused(str(error)) from None
    if amount_minor % minor_step(code):
        raise LedgerRefused(
            _("%(amount_minor)s is not an amount Stripe takes in %(value)s.")
            % {"amount_minor": amount_minor, "value": code.upper()}
        )
    if cause.pk is None:
        raise LedgerRefused(_("The cause of a ledger entry must be saved first."))
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(
                member=member,
                kind=kind,
                method=method,
                amount_minor=amount_minor,
                currency=code,
                cause_type=ContentType.objects.get_for_model(cause),
                cause_id=cause.pk,
                recorded_by=recorded_by,
                stripe_object_id=stripe_object_id,
                memo=memo.strip()[:500],
                occurred_at=occurred_at or clock.now(),
                created_at=clock.now(),
                refund_of=refund_of,
                reverses=reverses,
            )
    except IntegrityError:
        if stripe_object_id and ledger_entry_for_stripe(stripe_object_id) is not None:
            raise LedgerRefused(
                _("Stripe %(stripe_object_id)s is already in the ledger.")
                % {"stripe_object_id": stripe_object_id}
            ) from None
        if reverses is not None:
            raise LedgerRefused(_("That entry has already been reversed.")) from None
        raise


def ledger_entry_for_stripe(stripe_object_id: str) -> LedgerEntry | None:
    """The entry of a Stripe object, if it was recorded (webhooks check before recording)."""
    if not stripe_object_id:
        return None
    return LedgerEntry.objects.filter(stripe_object_id=stripe_object_id).first()


def entry_cause_lock(entry: LedgerEntry) -> Model:
    """Lock the row an entry pays for (a day pass, an enrollment, a sale), before the entry's.

    Every path that gives money back takes its locks in this one order, cause then payment:
    staff cancelling a day pass lock the pass and then refund its payments, while Stripe's
    `charge.refunded` and a staff reversal start from the payment and reach the pass through
    its money-returned handler. Taken the other way round, two of them at once would each hold
    the row the other waits for (a deadlock PostgreSQL breaks by failing one).
    """
    model = entry.cause_type.model_class()
    if model is None:
        raise LedgerRefused(f"Entry {entry.pk} pays for a kind of thing that no longer exists.")
    return model._default_manager.select_for_update().get(pk=entry.cause_id)


def ledger_reverse(
    *, entry: LedgerEntry, actor: User | None, reason: str, token: uuid.UUID | None = None
) -> LedgerEntry:
    """Cancel a mistaken entry with its mirror image (same kind, method and cause; the amount
    negated), recorded by `actor` with the reason (None: Toolgate itself, as when a guest's
    seat is given up). The mistaken entry stays as it was.

    Only for mistakes in the ledger itself: money given back through Stripe is a refund
    (`ledger_refund`), and a Stripe entry cannot be reversed here while Stripe still holds it.
    """
    reason = reason.strip()
    if not reason:
        raise LedgerRefused(_("Say why the entry is reversed; the reason is kept in the ledger."))
    with transaction.atomic():
        submission_claim(token)
        cause = entry_cause_lock(entry)
        locked = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.reverses_id is not None:
            raise LedgerRefused(_("A reversal cannot itself be reversed: record a new entry."))
        if LedgerEntry.objects.filter(reverses=locked).exists():
            raise LedgerRefused(_("That entry has already been reversed."))
        if locked.refunds.filter(reversed_by__isnull=True).exists():
            raise LedgerRefused(_("Part of that payment was refunded: reverse the refunds first."))
        if locked.method == Method.STRIPE:
            raise LedgerRefused(
                "That money moved through Stripe: refund it instead, so the card is credited."
            )
        reversal = ledger_record(
            member=locked.member,
            kind=locked.kind,
            method=locked.method,
            amount_minor=-locked.amount_minor,
            currency=locked.currency,
            cause=cause,
            recorded_by=actor,
            memo=f"Reverses entry {locked.pk}: {reason}",
            reverses=locked,
        )
        if locked.amount_minor > 0:
            _payment_changed(locked)
        elif locked.refund_of is not None:
            # A refund undone: what it gave back is the payment's again.
            _payment_changed(locked.refund_of)
        return reversal


def refundable_minor(entry: LedgerEntry) -> int:
    """How much of a payment can still be refunded: its amount less the refunds so far."""
    if entry.amount_minor <= 0 or entry.kind == Kind.REFUND:
        return 0
    # Refunds are negative; a refund staff undid is cancelled by its (positive) reversal.
    refunds = LedgerEntry.objects.filter(Q(refund_of=entry) | Q(reverses__refund_of=entry))
    refunded = refunds.aggregate(total=Sum("amount_minor"))["total"] or 0
    reversed_ = LedgerEntry.objects.filter(reverses=entry).exists()
    return 0 if reversed_ else entry.amount_minor + refunded


def ledger_refund(
    *,
    payment: LedgerEntry,
    amount_minor: int,
    recorded_by: User | None,
    memo: str,
    stripe_object_id: str = "",
    occurred_at: datetime | None = None,
    method: str | None = None,
) -> LedgerEntry:
    """A refund of (part of) a payment, in the same currency, by the payment's method (or
    `method`: a cash payment refunded as prepaid credits).

    The caller holds the payment's cause locked; here the payment row is locked too, so two
    refunds at once cannot together give back more than was paid.
    """
    if type(amount_minor) is not int or amount_minor <= 0:
        raise LedgerRefused(_("A refund gives back a positive amount."))
    with transaction.atomic():
        locked = LedgerEntry.objects.select_for_update().get(pk=payment.pk)
        left = refundable_minor(locked)
        if amount_minor > left:
            raise LedgerRefused(
                f"A refund of {money_format(amount_minor, locked.currency)} is more than is left "
                f"of that payment ({money_format(left, locked.currency)})."
            )
        refund = ledger_record(
            member=locked.member,
            kind=Kind.REFUND,
            method=method or locked.method,
            amount_minor=-amount_minor,
            currency=locked.currency,
            cause=locked.cause_type.get_object_for_this_type(pk=locked.cause_id),
            recorded_by=recorded_by,
            stripe_object_id=stripe_object_id,
            memo=memo,
            occurred_at=occurred_at,
            refund_of=locked,
        )
        _payment_changed(locked)
        return refund


def payments_net_minor(*, cause: Model, kind: str) -> int:
    """What was paid for `cause` in payments of `kind`, less what was refunded or reversed."""
    entries = LedgerEntry.objects.filter(
        cause_type=ContentType.objects.get_for_model(cause), cause_id=cause.pk
    ).filter(
        Q(kind=kind)
        | Q(kind=Kind.REFUND, refund_of__kind=kind)
        | Q(kind=Kind.REFUND, reverses__refund_of__kind=kind)  # a refund undone
    )
    return entries.aggregate(total=Sum("amount_minor"))["total"] or 0
