"""Sending the refunds Toolgate decided (StripeRefund rows) to Stripe, from the task runner.

No lock is held while Stripe is asked: a try first claims its row (the attempt counted, the
next try's time set, committed), then calls Stripe with the row's idempotency key, then records
the answer under the locks every refund takes (what was paid for, the payment, the row). Two
runs of one row at once send the same key, so Stripe makes one refund; the ledger's entry is
unique per Stripe refund, so it is recorded once whether the answer or `charge.refunded` comes
first. docs/billing.md ("Refunds through Stripe").
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import stripe
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from core import clock
from core.submissions import submission_claim
from membership.billing.client import BillingUnavailable, stripe_client
from membership.billing.ledger import (
    LedgerRefused,
    entry_cause_lock,
    ledger_entry_for_stripe,
    ledger_refund,
)
from membership.billing.models import LedgerEntry, StripeRefund
from membership.models import User

logger = logging.getLogger(__name__)

State = StripeRefund.State
# Written into each refund's metadata, so `charge.refunded` finds the row its refund settles.
REFUND_KEY = "toolgate_refund"


def refund_made_for(refund: stripe.Refund) -> str:
    """The StripeRefund row's number a refund on Stripe names in its metadata ("" if none)."""
    metadata = getattr(refund, "metadata", None)
    return str(metadata.to_dict().get(REFUND_KEY, "")) if metadata else ""


def retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th try a refund is tried again: REFUND_RETRY_BACKOFF_SECONDS,
    doubled after each try, at most an hour. Also how long a try holds its row (a worker that
    died mid-try leaves the row to the next one after this)."""
    first = settings.REFUND_RETRY_BACKOFF_SECONDS
    return timedelta(seconds=min(first * 2 ** max(attempts - 1, 0), 3600))


def _transient(error: stripe.StripeError) -> bool:
    """Whether Stripe may answer otherwise if asked again: no answer, too many requests, a
    conflict with a request of the same key still running, or Stripe's own error (5xx)."""
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return True
    status = error.http_status
    return status is None or status == 409 or status >= 500


def _claim(refund_id: int, now: datetime) -> StripeRefund | None:
    with transaction.atomic():
        row = (
            # The row alone: the payment's lock is taken after its cause's, by whoever records.
            StripeRefund.objects.select_for_update(of=("self",))
            .select_related("payment")
            .filter(pk=refund_id)
            .first()
        )
        if row is None or row.state != State.REQUESTED:
            return None
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            return None  # another run holds it, or its retry is not due yet
        row.attempts += 1
        row.next_attempt_at = now + retry_delay(row.attempts)
        row.save(update_fields=["attempts", "next_attempt_at"])
        return row


def _found_on_stripe(client: stripe.StripeClient, row: StripeRefund) -> stripe.Refund | None:
    """The refund of `row` if Stripe already made it (looked up before a new key is used)."""
    refunds = client.v1.refunds.list(
        params={"payment_intent": row.payment.stripe_object_id, "limit": 100}
    )
    for refund in refunds.data:
        if refund_made_for(refund) == str(row.pk) and refund.status not in {"failed", "canceled"}:
            return refund
    return None


def refund_attempt(*, refund_id: int, now: datetime | None = None) -> str:
    """One try of a requested refund, if it is due; returns its state afterwards ("" when it was
    not tried: not due, held by another run, or not requested any more)."""
    now = now or clock.now()
    row = _claim(refund_id, now)
    if row is None:
        return ""
    payment = row.payment
    try:
        client = stripe_client()
        refund = _found_on_stripe(client, row) if row.staff_retries else None
        if refund is None:
            refund = client.v1.refunds.create(
                params={
                    "payment_intent": payment.stripe_object_id,
                    "amount": row.amount_minor,
                    "metadata": {
                        REFUND_KEY: str(row.pk),
                        "toolgate_entry": str(payment.pk),
                        "reason": row.reason[:400],
                    },
                },
                options={"idempotency_key": row.idempotency_key},
            )
    except BillingUnavailable as error:  # no key: billing was switched off meanwhile
        return _failed(row.pk, str(error), now=now)
    except stripe.StripeError as error:
        detail = error.user_message or str(error) or type(error).__name__
        if not _transient(error):
            logger.warning("Stripe refused refund %s of entry %s: %s", row.pk, payment.pk, detail)
            return _failed(row.pk, _("Stripe refused: %(detail)s") % {"detail": detail}, now=now)
        logger.warning("Refund %s try %d failed: %s", row.pk, row.attempts, detail)
        if row.attempts >= settings.REFUND_MAX_TRIES:
            return _failed(
                row.pk,
                _("Stripe could not be reached (%(tries)d tries): %(detail)s")
                % {"tries": row.attempts, "detail": detail},
                now=now,
            )
        StripeRefund.objects.filter(pk=row.pk, state=State.REQUESTED).update(
            last_error=detail[:500]
        )
        return State.REQUESTED
    if refund.status in {"failed", "canceled"}:
        return _failed(
            row.pk,
            _("Stripe could not make the refund (%(status)s).") % {"status": refund.status},
            now=now,
        )
    try:
        with transaction.atomic():
            entry_cause_lock(payment)
            locked = StripeRefund.objects.select_for_update().get(pk=row.pk)
            refund_confirm(locked, refund_id=refund.id, now=now)
            return locked.state
    except LedgerRefused as error:
        # Stripe gave back more than the ledger has left of the payment (refunded meanwhile
        # in the dashboard, say): the money moved, so staff must look (reconcile says so too).
        logger.error("Refund %s (%s) not recorded: %s", row.pk, refund.id, error)
        StripeRefund.objects.filter(pk=row.pk).update(stripe_refund_id=refund.id)
        return _failed(
            row.pk,
            _("Stripe made refund %(refund)s but the ledger refused it: %(error)s")
            % {"refund": refund.id, "error": error},
            now=now,
        )


def _failed(refund_id: int, error: str, *, now: datetime) -> str:
    StripeRefund.objects.filter(pk=refund_id, state=State.REQUESTED).update(
        state=State.FAILED, last_error=error[:500], finished_at=now, next_attempt_at=None
    )
    return State.FAILED


def refund_confirm(row: StripeRefund, *, refund_id: str, now: datetime) -> LedgerEntry:
    """Stripe made `row`'s refund (`refund_id`): the ledger's refund entry, once, and the row
    succeeded. The caller holds the payment's cause and the row locked (in that order); a row
    already confirmed (its `charge.refunded` came first) keeps its entry."""
    if row.entry_id is not None:
        return row.entry  # type: ignore[return-value]
    entry = ledger_entry_for_stripe(refund_id)
    if entry is None:
        entry = ledger_refund(
            payment=row.payment,
            amount_minor=row.amount_minor,
            recorded_by=row.requested_by,
            memo=row.reason,
            stripe_object_id=refund_id,
        )
    row.state, row.entry, row.stripe_refund_id = State.SUCCEEDED, entry, refund_id
    row.finished_at, row.next_attempt_at = now, None
    row.save(update_fields=["state", "entry", "stripe_refund_id", "finished_at", "next_attempt_at"])
    return entry


def refunds_due(*, now: datetime) -> list[int]:
    """Requested refunds whose next try is due (a retry, or a first try whose task was lost)."""
    return list(
        StripeRefund.objects.filter(state=State.REQUESTED, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)
    )


def refund_retry(
    *, refund: StripeRefund, actor: User, token: uuid.UUID | None = None
) -> StripeRefund:
    """Staff try a failed refund again (its card was fixed, Stripe is back): it is requested
    anew, tried at once by the task runner. Stripe replays a refusal to the same idempotency
    key, so the retry has a key of its own; before using it, the try looks for the refund on
    Stripe (in case the last answer was lost after all)."""
    if not actor.has_perm("membership.record_payment"):
        raise LedgerRefused(_("Only staff who may take payments can retry refunds."))
    with transaction.atomic():
        submission_claim(token)
        entry_cause_lock(refund.payment)
        locked = StripeRefund.objects.select_for_update().get(pk=refund.pk)
        if locked.state != State.FAILED:
            raise LedgerRefused(_("Only a failed refund can be tried again."))
        locked.staff_retries += 1
        base = locked.idempotency_key.split("~retry-")[0]
        locked.idempotency_key = f"{base}~retry-{locked.staff_retries}"
        locked.state, locked.attempts, locked.finished_at = State.REQUESTED, 0, None
        locked.next_attempt_at = clock.now()
        locked.save(
            update_fields=[
                "staff_retries",
                "idempotency_key",
                "state",
                "attempts",
                "finished_at",
                "next_attempt_at",
            ]
        )
        refund_queue(locked)
    return locked


def refund_queue(row: StripeRefund) -> None:
    """Ask the task runner for the refund's first try once the transaction commits."""
    from membership.tasks import send_refund  # tasks imports billing's modules

    send_refund.delay_on_commit(row.pk)
