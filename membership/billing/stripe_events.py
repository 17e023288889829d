"""Reading a signed Stripe event body into the typed facts the webhook handler acts on.

Everything the handler reads is read here, before anything is looked up or written: a body that
does not have the shape Toolgate reads raises EventBodyInvalid naming the field, so the endpoint
refuses it with 400 instead of failing halfway. Pure: no Django, no database.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

CHECKOUT_COMPLETED = "checkout.session.completed"
CHECKOUT_EXPIRED = "checkout.session.expired"
CHECKOUT_EVENTS = frozenset({CHECKOUT_COMPLETED, CHECKOUT_EXPIRED})
SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
INVOICE_PAID = "invoice.paid"
INVOICE_EVENTS = frozenset({INVOICE_PAID, "invoice.payment_failed"})
CHARGE_REFUNDED = "charge.refunded"
PAYMENT_INTENT_SUCCEEDED = "payment_intent.succeeded"
PAYMENT_INTENT_FAILED = "payment_intent.payment_failed"
PAYMENT_INTENT_EVENTS = frozenset({PAYMENT_INTENT_SUCCEEDED, PAYMENT_INTENT_FAILED})
HANDLED_EVENTS = frozenset(
    {
        *CHECKOUT_EVENTS,
        *SUBSCRIPTION_EVENTS,
        *INVOICE_EVENTS,
        CHARGE_REFUNDED,
        *PAYMENT_INTENT_EVENTS,
    }
)

# Stripe's objects nest about ten levels deep; the bound keeps parsing, storing (JSON in the
# database) and reading any body far from Python's recursion limit.
MAX_DEPTH = 64
# The widest columns the ids and names go into (Stripe's ids are far shorter).
MAX_ID_LENGTH = 255
MAX_TYPE_LENGTH = 100
# Payment.amount_cents is a PositiveIntegerField: PostgreSQL's integer.
MAX_AMOUNT = 2**31 - 1
_LAST_TIMESTAMP = int(datetime(9999, 12, 31, tzinfo=UTC).timestamp())
_EVENT_ID = re.compile(r"evt_[A-Za-z0-9_]+")
_CURRENCY = re.compile(r"[a-z]{3}")
# A primary key as Toolgate wrote it into client_reference_id: ASCII digits that fit a bigint.
_PRIMARY_KEY = re.compile(r"[1-9][0-9]{0,17}")
# Stripe writes the event's id first; only used to name an event whose body cannot be parsed.
_CLAIMED_ID = re.compile(r'\A\s*\{\s*"id"\s*:\s*"(evt_[A-Za-z0-9_]{1,250})"')


class EventBodyInvalid(ValueError):
    """The body is not a Stripe event of the shape Toolgate reads (the message names the field)."""

    def __init__(self, message: str, *, event_id: str = "") -> None:
        super().__init__(message)
        self.event_id = event_id


@dataclass(frozen=True)
class CheckoutFacts:
    session_id: str
    mode: str
    reference: str  # client_reference_id, else metadata.membership_id: the membership we sent
    membership_id: int | None  # the reference when it is a primary key
    customer_id: str
    subscription_id: str
    # Payment mode (one-off payments, membership.billing.payments): what Toolgate wrote into the
    # metadata, and what was paid.
    kind: str = ""
    payment_reference: str = ""
    payment_intent_id: str = ""
    amount_total: int = 0
    currency: str = ""
    paid: bool = False


@dataclass(frozen=True)
class SubscriptionFacts:
    subscription_id: str
    customer_id: str
    claimed_membership: str  # metadata.membership_id, "" when absent


@dataclass(frozen=True)
class InvoiceLine:
    """One line of a paid invoice that came from an invoice item Toolgate made (machine time)."""

    line_id: str
    amount: int
    invoice_item_id: str  # parent.invoice_item_details.invoice_item
    kind: str  # metadata.toolgate_kind: the invoice item's metadata, copied onto its line
    reference: str  # metadata.toolgate_ref


@dataclass(frozen=True)
class InvoicePayment:
    """What a paid invoice records as a Payment."""

    invoice_id: str
    amount_paid: int
    currency: str  # "" when absent
    number: str
    period_start: datetime | None  # its first line's period, else the invoice's own
    period_end: datetime | None
    paid_at: datetime  # when it was paid, else when it was created
    # Its invoice-item lines in the body; `lines_complete` False when Stripe left some out
    # (`lines.has_more`): the rest are fetched before they are matched.
    item_lines: tuple[InvoiceLine, ...] = ()
    lines_complete: bool = True


@dataclass(frozen=True)
class InvoiceFacts:
    invoice_id: str
    customer_id: str
    subscription_id: str  # "" for an invoice that is not for a subscription
    payment: InvoicePayment | None  # read for invoice.paid only


@dataclass(frozen=True)
class ChargeFacts:
    """A refunded charge: which payment it belongs to (the refunds are fetched from Stripe)."""

    charge_id: str
    payment_intent_id: str
    customer_id: str
    amount_refunded: int
    currency: str


@dataclass(frozen=True)
class PaymentIntentFacts:
    """An off-session payment that ended: what Toolgate wrote into its metadata, and how."""

    payment_intent_id: str
    customer_id: str
    kind: str
    reference: str
    succeeded: bool
    amount: int
    currency: str
    failure: str  # last_payment_error: the decline code and message


Facts = CheckoutFacts | SubscriptionFacts | InvoiceFacts | ChargeFacts | PaymentIntentFacts


@dataclass(frozen=True)
class StripeEventBody:
    id: str
    type: str
    created: datetime
    livemode: bool
    api_version: str
    payload: dict  # the whole body, stored with the event
    facts: Facts | None  # None: an event Toolgate does not act on


def event_body_read(text: str) -> StripeEventBody:
    """The event in a signed body, with the facts of its object read when Toolgate acts on it."""
    claimed = match.group(1) if (match := _CLAIMED_ID.match(text)) else ""
    try:
        body = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise EventBodyInvalid("body is nested too deeply", event_id=claimed) from None
    except ValueError as error:
        raise EventBodyInvalid(f"body is not valid JSON: {error}", event_id=claimed) from None
    if not isinstance(body, dict):
        raise EventBodyInvalid(f"body is {_kind(body)}, expected a Stripe event object")
    event = _Fields(body, "event")
    event_id = event.text("id", max_length=MAX_ID_LENGTH)
    if not _EVENT_ID.fullmatch(event_id):
        raise EventBodyInvalid("event.id is not a Stripe event id")
    try:
        _check_storable(body)
        kind = event.text("type", max_length=MAX_TYPE_LENGTH)
        created = event.moment("created")
        if not kind or created is None:
            raise EventBodyInvalid("event.type and event.created are required")
        obj = event.fields("data").fields("object")
        if not obj.present:
            raise EventBodyInvalid("event.data.object is required")
        return StripeEventBody(
            id=event_id,
            type=kind,
            created=created,
            livemode=event.flag("livemode"),
            api_version=event.text("api_version"),
            payload=body,
            facts=_facts(kind, obj),
        )
    except EventBodyInvalid as error:
        raise EventBodyInvalid(str(error), event_id=event_id) from None


def _facts(kind: str, obj: _Fields) -> Facts | None:
    # Where one field stands in for another, both are read first: a wrong type in either is
    # refused, whichever of them the event happens to use.
    if kind in CHECKOUT_EVENTS:
        ours = obj.text("client_reference_id")
        metadata = obj.fields("metadata")
        in_metadata = metadata.text("membership_id")
        reference = ours or in_metadata
        currency = obj.text("currency")
        if currency and not _CURRENCY.fullmatch(currency):
            raise EventBodyInvalid(f"{obj.path}.currency is not a currency code")
        return CheckoutFacts(
            session_id=obj.text("id"),
            mode=obj.text("mode"),
            reference=reference,
            membership_id=int(reference) if _PRIMARY_KEY.fullmatch(reference) else None,
            customer_id=obj.reference("customer"),
            subscription_id=obj.reference("subscription"),
            kind=metadata.text("toolgate_kind"),
            payment_reference=metadata.text("toolgate_ref"),
            payment_intent_id=obj.reference("payment_intent"),
            amount_total=obj.count("amount_total", maximum=MAX_AMOUNT),
            currency=currency,
            paid=obj.text("payment_status") == "paid",
        )
    if kind in SUBSCRIPTION_EVENTS:
        subscription_id = obj.text("id")
        if not subscription_id:
            # Without it there is nothing to fetch; Stripe would be asked again on every retry.
            raise EventBodyInvalid(f"{obj.path}.id is required")
        return SubscriptionFacts(
            subscription_id=subscription_id,
            customer_id=obj.reference("customer"),
            claimed_membership=obj.fields("metadata").text("membership_id"),
        )
    if kind == CHARGE_REFUNDED:
        currency = obj.text("currency")
        if currency and not _CURRENCY.fullmatch(currency):
            raise EventBodyInvalid(f"{obj.path}.currency is not a currency code")
        return ChargeFacts(
            charge_id=obj.text("id"),
            payment_intent_id=obj.reference("payment_intent"),
            customer_id=obj.reference("customer"),
            amount_refunded=obj.count("amount_refunded", maximum=MAX_AMOUNT),
            currency=currency,
        )
    if kind in PAYMENT_INTENT_EVENTS:
        currency = obj.text("currency")
        if currency and not _CURRENCY.fullmatch(currency):
            raise EventBodyInvalid(f"{obj.path}.currency is not a currency code")
        metadata, error = obj.fields("metadata"), obj.fields("last_payment_error")
        reason = error.text("decline_code") or error.text("code")
        message = error.text("message", max_length=500)
        return PaymentIntentFacts(
            payment_intent_id=obj.text("id"),
            customer_id=obj.reference("customer"),
            kind=metadata.text("toolgate_kind"),
            reference=metadata.text("toolgate_ref"),
            succeeded=kind == PAYMENT_INTENT_SUCCEEDED and obj.text("status") == "succeeded",
            amount=obj.count("amount", maximum=MAX_AMOUNT),
            currency=currency,
            failure=": ".join(part for part in (reason, message) if part),
        )
    if kind in INVOICE_EVENTS:
        # The pinned version names the subscription under `parent`; versions before 2025 at the
        # top level.
        details = obj.fields("parent").fields("subscription_details")
        under_parent, top_level = details.reference("subscription"), obj.reference("subscription")
        return InvoiceFacts(
            invoice_id=obj.text("id"),
            customer_id=obj.reference("customer"),
            subscription_id=under_parent or top_level,
            payment=_payment(obj) if kind == INVOICE_PAID else None,
        )
    return None


def _payment(invoice: _Fields) -> InvoicePayment:
    line = invoice.fields("lines").first("data").fields("period")
    line_start, line_end = line.moment("start"), line.moment("end")
    own_start, own_end = invoice.moment("period_start"), invoice.moment("period_end")
    transitions_paid_at = invoice.fields("status_transitions").moment("paid_at")
    created = invoice.moment("created")
    paid_at = transitions_paid_at or created
    if paid_at is None:
        raise EventBodyInvalid(f"{invoice.path}.created is required")
    currency = invoice.text("currency")
    if currency and not _CURRENCY.fullmatch(currency):
        raise EventBodyInvalid(f"{invoice.path}.currency is not a currency code")
    lines = invoice.fields("lines")
    return InvoicePayment(
        invoice_id=invoice.text("id"),
        amount_paid=invoice.count("amount_paid", maximum=MAX_AMOUNT),
        currency=currency,
        number=invoice.text("number"),
        period_start=line_start or own_start,
        period_end=line_end or own_end,
        paid_at=paid_at,
        item_lines=tuple(
            line for item in lines.each("data") if (line := invoice_line_read(item)) is not None
        ),
        lines_complete=not lines.flag("has_more"),
    )


def invoice_line_read(line: _Fields) -> InvoiceLine | None:
    """An invoice line that bills an invoice item (None for a subscription's own line)."""
    item_id = line.fields("parent").fields("invoice_item_details").reference("invoice_item")
    metadata = line.fields("metadata")
    kind, reference = metadata.text("toolgate_kind"), metadata.text("toolgate_ref")
    if not item_id and not kind:
        return None
    return InvoiceLine(
        line_id=line.text("id"),
        amount=line.count("amount", maximum=MAX_AMOUNT),
        invoice_item_id=item_id,
        kind=kind,
        reference=reference,
    )


def invoice_lines_read(items: list[Any], path: str) -> list[InvoiceLine]:
    """The invoice-item lines of a page of lines fetched from Stripe (`GET .../lines`)."""
    return [
        line
        for index, item in enumerate(items)
        if (line := invoice_line_read(_Fields(_object(item, f"{path}[{index}]"), path))) is not None
    ]


def _object(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise EventBodyInvalid(f"{path} is {_kind(value)}, expected an object")
    return value


class _Fields:
    """Typed reads of one JSON object; absent and null read as empty, a wrong type is refused."""

    def __init__(self, mapping: dict | None, path: str) -> None:
        self.present = mapping is not None
        self._mapping = mapping or {}
        self.path = path

    def _get(self, key: str, *kinds: type) -> Any:
        value = self._mapping.get(key)
        # Exact types: true is an int to isinstance(), never in JSON.
        if value is None or type(value) in kinds:
            return value
        expected = " or ".join(_KIND_NAMES[kind] for kind in kinds)
        raise EventBodyInvalid(f"{self.path}.{key} is {_kind(value)}, expected {expected}")

    def text(self, key: str, *, max_length: int = MAX_ID_LENGTH) -> str:
        value = self._get(key, str) or ""
        if len(value) > max_length:
            raise EventBodyInvalid(f"{self.path}.{key} is longer than {max_length} characters")
        return value

    def flag(self, key: str) -> bool:
        return bool(self._get(key, bool))

    def count(self, key: str, *, maximum: int) -> int:
        value = self._get(key, int) or 0
        if not 0 <= value <= maximum:
            raise EventBodyInvalid(f"{self.path}.{key} is not between 0 and {maximum}")
        return value

    def moment(self, key: str) -> datetime | None:
        value = self._get(key, int)
        if value is None:
            return None
        if not 0 < value <= _LAST_TIMESTAMP:
            raise EventBodyInvalid(f"{self.path}.{key} is not a Unix time")
        return datetime.fromtimestamp(value, tz=UTC)

    def reference(self, key: str) -> str:
        """The id of a Stripe reference: the id itself, or the expanded object's id."""
        value = self._get(key, str, dict)
        if isinstance(value, dict):
            return self.fields(key).text("id")
        return self.text(key)

    def fields(self, key: str) -> _Fields:
        return _Fields(self._get(key, dict), f"{self.path}.{key}")

    def each(self, key: str) -> list[_Fields]:
        """Every object of a list (a Stripe list object's `data`)."""
        items = self._get(key, list) or []
        path = f"{self.path}.{key}"
        return [
            _Fields(_object(item, f"{path}[{index}]"), f"{path}[{index}]")
            for index, item in enumerate(items)
        ]

    def first(self, key: str) -> _Fields:
        """The first object of a list (a Stripe list object's `data`)."""
        items = self._get(key, list) or []
        if items and not isinstance(items[0], dict):
            raise EventBodyInvalid(f"{self.path}.{key}[0] is {_kind(items[0])}, expected an object")
        return _Fields(items[0] if items else None, f"{self.path}.{key}[0]")


_KIND_NAMES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return next((name for kind, name in _KIND_NAMES.items() if type(value) is kind), "a number")


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} does not fit a double")
    return value


def _check_storable(body: dict) -> None:
    """The body can be stored as JSON on every database: bounded depth, plain Unicode strings.

    PostgreSQL's jsonb refuses the NUL character and unpaired surrogates that JSON escapes allow.
    Iterative, so a deep body cannot exhaust the stack here either.
    """
    pending: list[tuple[Any, int]] = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise EventBodyInvalid(f"body is nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            for key, item in value.items():
                _check_string(key)
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_string(value)


def _check_string(value: str) -> None:
    if "\x00" in value:
        raise EventBodyInvalid("body has a string with a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise EventBodyInvalid("body has a string with an unpaired surrogate") from None
