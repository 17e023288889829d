"""Posting metered machine time: each ended session's part in a local month that is over is
charged once, as a ledger entry on account; in Stripe mode also as an invoice item on the
member's subscription (docs/billing.md, "Metered machine time")."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import stripe
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Sum

from access.models import UsageSession
from membership.billing.client import BillingUnavailable, stripe_client
from membership.billing.config import stripe_enabled
from membership.billing.invoices import PaidInvoice
from membership.billing.ledger import ledger_entry_for_stripe, ledger_record
from membership.billing.models import LedgerEntry
from membership.billing.sync import ENDED_STATUSES
from membership.models import Member
from metering import rules, selectors
from metering.models import UsageCharge

logger = logging.getLogger(__name__)

Billing = UsageCharge.Billing
INVOICE_KIND = "usage"  # metadata.toolgate_kind of machine time's invoice items


@dataclass(frozen=True)
class _Pending:
    session: UsageSession
    part: rules.MonthPart
    last: bool


def _pending_parts(now: datetime) -> dict[tuple[int, int, date], list[_Pending]]:
    """Parts of ended, metered sessions whose local month is over and which are not charged
    yet, per (member, machine, month). A session running when its month ended waits: it is
    charged only once it ends."""
    sessions = (
        UsageSession.objects.filter(
            ended_at__isnull=False,
            ended_at__gt=F("started_at"),
            member__isnull=False,
            machine__rate__isnull=False,
            started_at__gte=F("machine__rate__metered_since"),
        )
        .exclude(Exists(UsageCharge.objects.filter(session=OuterRef("pk"), last_part=True)))
        .select_related("machine__location", "machine__rate")
    )
    groups: dict[tuple[int, int, date], list[_Pending]] = defaultdict(list)
    for session in sessions:
        assert session.ended_at is not None and session.member_id is not None
        zone = session.machine.location.zone
        parts = rules.month_parts(session.started_at, session.ended_at, zone)
        for index, part in enumerate(parts):
            if rules.next_month_begins(part.month, zone) <= now:
                key = (session.member_id, session.machine_id, part.month)
                groups[key].append(_Pending(session, part, index == len(parts) - 1))
    return groups


def _billing_for(member: Member) -> str:
    """Stripe mode and a running subscription: the next invoice; otherwise the statement."""
    membership = getattr(member, "membership", None)
    if (
        stripe_enabled()
        and membership is not None
        and membership.stripe_customer_id
        and membership.stripe_subscription_id
        and membership.stripe_subscription_status not in ENDED_STATUSES
    ):
        return Billing.INVOICE
    return Billing.STATEMENT


def _month_post(member_id: int, pending: list[_Pending], *, now: datetime) -> int:
    """Charge one member's parts of one month on one machine; returns how many were charged."""
    with transaction.atomic():
        # Charges of a member's month are worked out one run at a time: each takes the included
        # hours the ones before left.
        member = Member.objects.select_for_update().get(pk=member_id)
        machine, month = pending[0].session.machine, pending[0].part.month
        done = set(
            UsageCharge.objects.filter(
                session__in=[p.session for p in pending], month=month
            ).values_list("session_id", flat=True)
        )
        todo = sorted((p for p in pending if p.session.pk not in done), key=lambda p: p.part.start)
        if not todo:
            return 0
        used = (
            UsageCharge.objects.filter(member=member, machine=machine, month=month).aggregate(
                total=Sum("included_seconds")
            )["total"]
            or 0
        )
        rate = machine.rate
        grants = [selectors.session_grant(p.session) for p in todo]
        charges = rules.month_charges(
            [(p.part.seconds, grant) for p, grant in zip(todo, grants, strict=True)],
            rate=selectors.rate_rules(rate),
            included_seconds=selectors.included_seconds(member, machine),
            used=used,
        )
        billing = _billing_for(member)
        batch = uuid.uuid4() if billing == Billing.INVOICE else None
        charged = 0
        for item, grant, charge in zip(todo, grants, charges, strict=True):
            usage = UsageCharge.objects.create(
                session=item.session,
                month=month,
                member=member,
                machine=machine,
                grant=grant.value,
                part_start=item.part.start,
                part_end=item.part.end,
                last_part=item.last,
                seconds=charge.seconds,
                included_seconds=charge.included_seconds,
                charged_minutes=charge.charged_minutes,
                amount_minor=charge.amount_minor,
                currency=rate.currency,
                billing=billing if charge.amount_minor else Billing.NONE,
                invoice_batch=batch if charge.amount_minor else None,
                created_at=now,
            )
            if charge.amount_minor:
                ledger_record(
                    member=member,
                    kind=LedgerEntry.Kind.USAGE,
                    method=LedgerEntry.Method.ACCOUNT,
                    amount_minor=charge.amount_minor,
                    currency=rate.currency,
                    cause=usage,
                    memo=usage.description,
                    occurred_at=now,
                )
                charged += 1
        return charged


def usage_charges_post(*, now: datetime) -> int:
    """Charge every ended session's time in each local month over by `now`, once; returns how
    many parts were charged (time covered by included hours or not charged counts none).

    Idempotent: a part already charged is skipped, and a second run at the same moment is
    stopped by the database (one charge per session and month) and charges nothing.
    """
    charged = 0
    groups = _pending_parts(now)
    # Oldest month first, so a month's included hours go to its parts in the order they started.
    for member_id, machine_id, month in sorted(groups, key=lambda key: (key[2], key[0], key[1])):
        try:
            charged += _month_post(member_id, groups[member_id, machine_id, month], now=now)
        except IntegrityError:
            logger.info("Usage of member %s in %s was posted by another run", member_id, month)
    return charged


def usage_invoice_items_push() -> int:
    """Put charges due on the next Stripe invoice there; returns how many invoice items it made.

    The charges posted together (one member's month on one machine) are one invoice item, made
    with their batch's idempotency key, so a retry after a lost answer makes no second item; its
    id is kept on the charges, which are then done. Raises BillingUnavailable when some could not
    be made (the next run tries them again).
    """
    if not stripe_enabled():
        return 0
    pending = UsageCharge.objects.filter(
        billing=Billing.INVOICE, stripe_invoice_item_id=""
    ).select_related("machine", "member__membership")
    batches: dict[uuid.UUID, list[UsageCharge]] = defaultdict(list)
    for charge in pending.order_by("id"):
        assert charge.invoice_batch is not None  # the database's check: invoiced in a batch
        batches[charge.invoice_batch].append(charge)
    pushed, failed = 0, 0
    for batch, charges in batches.items():
        try:
            item = _invoice_item_create(batch, charges)
        except stripe.StripeError as error:
            logger.warning("Invoice item for usage batch %s failed: %s", batch, error)
            failed += 1
            continue
        UsageCharge.objects.filter(pk__in=[c.pk for c in charges]).update(
            stripe_invoice_item_id=item.id
        )
        pushed += 1
    if failed:
        raise BillingUnavailable(
            f"{failed} machine time item(s) could not be put on Stripe invoices; "
            "the next run retries."
        )
    return pushed


def _invoice_item_create(batch: uuid.UUID, charges: list[UsageCharge]) -> stripe.InvoiceItem:
    first = charges[0]
    membership = first.member.membership
    minutes = sum(c.charged_minutes for c in charges)
    sessions = f"{len(charges)} session{'' if len(charges) == 1 else 's'}"
    return stripe_client().v1.invoice_items.create(
        params={
            "customer": membership.stripe_customer_id,
            "subscription": membership.stripe_subscription_id,
            "amount": sum(c.amount_minor for c in charges),
            "currency": first.currency,
            "description": f"{first.machine.name}: {minutes} min in {first.month:%B %Y} ({sessions})",
            "period": {
                "start": int(min(c.part_start for c in charges).timestamp()),
                "end": int(max(c.part_end for c in charges).timestamp()),
            },
            "metadata": {"toolgate_kind": INVOICE_KIND, "toolgate_ref": str(batch)},
        },
        options={"idempotency_key": f"toolgate-usage-{batch}"},
    )


def _batch_charges(line_item_id: str, reference: str) -> list[UsageCharge]:
    """The charges an invoice line billed: by the item id kept on them, else by the batch in
    the item's metadata (the item was made but its id not kept yet: a lost answer)."""
    charges = list(UsageCharge.objects.filter(stripe_invoice_item_id=line_item_id))
    if charges or not reference:
        return charges
    try:
        batch = uuid.UUID(reference)
    except ValueError:
        return []
    return list(UsageCharge.objects.filter(invoice_batch=batch))


def usage_invoice_settle(paid: PaidInvoice) -> int:
    """A paid invoice carried machine time: settle each of its lines on the member's account.

    One entry per invoice line (the line's id is its Stripe object, so a redelivered or
    reordered `invoice.paid` settles nothing twice), of what the line paid, negative and on
    account, caused by the invoice's payment. Returns how many lines were settled now.
    """
    settled = 0
    for line in paid.lines:
        if not line.line_id or line.amount <= 0:
            continue
        if ledger_entry_for_stripe(line.line_id) is not None:
            continue
        charges = _batch_charges(line.invoice_item_id, line.reference)
        if not charges or any(c.member_id != paid.member.pk for c in charges):
            logger.error(
                "Invoice %s line %s (item %s, batch %r) matches no machine time of member %s",
                paid.invoice_id,
                line.line_id,
                line.invoice_item_id,
                line.reference,
                paid.member.pk,
            )
            continue
        billed = sum(c.amount_minor for c in charges)
        if billed != line.amount:
            logger.warning(
                "Invoice %s line %s paid %s for machine time charged at %s",
                paid.invoice_id,
                line.line_id,
                line.amount,
                billed,
            )
        first = min(charges, key=lambda c: c.part_start)
        ledger_record(
            member=paid.member,
            kind=LedgerEntry.Kind.ACCOUNT_SETTLED,
            method=LedgerEntry.Method.ACCOUNT,
            amount_minor=-line.amount,
            currency=paid.currency,
            cause=paid.payment,
            stripe_object_id=line.line_id,
            memo=f"Machine time paid on Stripe invoice {paid.number or paid.invoice_id}: "
            f"{first.machine.name}, {first.month:%B %Y}",
            occurred_at=paid.paid_at,
        )
        settled += 1
    return settled
