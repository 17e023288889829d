"""A fake Stripe API at the SDK's HTTP layer, and webhook events built and signed as Stripe does.

Object shapes follow the pinned API version (settings.STRIPE_API_VERSION): subscription periods
live on the subscription items, an invoice names its subscription under `parent`.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import stripe
from django.conf import settings

WEBHOOK_SECRET = "whsec_test_toolgate_0123456789abcdef"
SECRET_KEY = "sk_test_toolgate_0123456789abcdef"
PRICE_ID = "price_1TgMonthly100usd"

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_Tg{next(_ids):012d}"


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    answer: dict | None = None  # the body the fake answered with, when it succeeded


def _metadata(params: dict[str, str], prefix: str = "metadata[") -> dict[str, str]:
    """The metadata hash of a form-encoded request (`metadata[key]=value`), under `prefix`."""
    return {key[len(prefix) : -1]: value for key, value in params.items() if key.startswith(prefix)}


class FakeStripeAPI(stripe.HTTPClient):
    """Answers the Stripe API calls Toolgate makes and records each request as sent on the wire."""

    name = "toolgate-fake"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Request] = []
        self.subscriptions: dict[str, dict] = {}
        self.refunds: list[dict] = []  # made through the API, or added as if in the dashboard
        self.invoice_lines: dict[str, list[dict]] = {}  # every line of an invoice, by its id
        self.invoice_items: dict[str, dict] = {}  # made through the API, by id
        self.payment_intents: dict[str, dict] = {}  # made through the API, by id
        self.checkout_sessions: list[dict] = []  # payment-mode sessions members paid
        # What an off-session PaymentIntent does: "succeeded", "authentication_required" (SCA),
        # "card_declined"; and whether the customer has a saved card.
        self.card_outcome = "succeeded"
        self.saved_cards = ["pm_1TgCard"]
        self.fail_with_status: int | None = None
        # What the next `POST /v1/refunds` answer: a status with Stripe's error body ("lost":
        # Stripe makes the refund but the answer never arrives), one per request, in order.
        self.refund_answers: list[tuple[int, dict] | str] = []
        # Stripe keeps each idempotency key's first answer and replays it (docs: "Idempotent
        # requests"); the fake does for refunds, the requests a retry must not repeat.
        self.idempotent_answers: dict[str, tuple[str, int, dict]] = {}
        # Where a session's hosted page sends the member. None keeps Stripe's own URLs, which no
        # test loads; a browser test names the Checkout URL to come back on ("success_url" as
        # after paying, "cancel_url" as after pressing back) and lets the portal return at once.
        self.checkout_returns_to: str | None = None
        self.portal_returns = False

    # What tests read.
    def calls(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def subscription_fetches(self) -> int:
        return sum(
            1
            for r in self.requests
            if r.method == "get" and r.path.startswith("/v1/subscriptions/")
        )

    # The SDK's HTTP interface.
    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        params = dict(parse_qsl(body or parts.query, keep_blank_values=True))
        recorded = Request(method, parts.path, params, dict(headers or {}))
        self.requests.append(recorded)
        if self.fail_with_status:
            error = {"error": {"type": "api_error", "message": "Stripe is having a bad day"}}
            return json.dumps(error), self.fail_with_status, {}
        body, status, response_headers = self._answer(method, parts.path, params, headers or {})
        if status == 200:
            recorded.answer = json.loads(body)
        return body, status, response_headers

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        raise AssertionError("Toolgate never streams from Stripe")

    def close(self) -> None:
        pass

    def _refund_create(self, params: dict[str, str], headers: dict[str, str]):
        key = headers.get("Idempotency-Key", "")
        if key in self.idempotent_answers:
            return self.idempotent_answers[key]
        scripted = self.refund_answers.pop(0) if self.refund_answers else None
        if isinstance(scripted, tuple):
            status, error = scripted
            answer = (json.dumps({"error": error}), status, {"Request-Id": new_id("req")})
            if status < 500:  # Stripe keeps what it answered once it ran the request
                self.idempotent_answers[key] = answer
            return answer
        refund = {
            "id": new_id("re"),
            "object": "refund",
            "amount": int(params["amount"]),
            "payment_intent": params["payment_intent"],
            "status": "succeeded",
            "currency": "usd",
            "metadata": _metadata(params),
            "created": int(time.time()),
        }
        self.refunds.append(refund)
        answer = self._ok(refund)
        if key:
            self.idempotent_answers[key] = answer
        if scripted == "lost":
            raise stripe.APIConnectionError("The connection to Stripe was reset.")
        return answer

    def _answer(self, method: str, path: str, params: dict[str, str], headers: dict[str, str]):
        if method == "post" and path == "/v1/customers":
            return self._ok({"id": new_id("cus"), "object": "customer", "email": params["email"]})
        if method == "post" and path == "/v1/checkout/sessions":
            session_id = new_id("cs_test")
            url = f"https://checkout.stripe.com/c/pay/{session_id}"
            if self.checkout_returns_to:
                # Stripe fills the placeholder in when it sends the member back.
                url = params[self.checkout_returns_to].replace("{CHECKOUT_SESSION_ID}", session_id)
            return self._ok(
                {"id": session_id, "object": "checkout.session", "mode": params["mode"], "url": url}
            )
        if method == "post" and path == "/v1/billing_portal/sessions":
            session_id = new_id("bps")
            url = f"https://billing.stripe.com/p/session/{session_id}"
            return self._ok(
                {
                    "id": session_id,
                    "object": "billing_portal.session",
                    "customer": params["customer"],
                    "url": params["return_url"] if self.portal_returns else url,
                }
            )
        if method == "post" and path == "/v1/refunds":
            return self._refund_create(params, headers)
        if (
            method == "get"
            and path.startswith("/v1/customers/")
            and path.endswith("/payment_methods")
        ):
            cards = [
                {"id": pm, "object": "payment_method", "type": "card"} for pm in self.saved_cards
            ]
            return self._ok({"object": "list", "data": cards, "has_more": False, "url": path})
        if method == "post" and path == "/v1/payment_intents":
            intent = {
                "id": new_id("pi"),
                "object": "payment_intent",
                "amount": int(params["amount"]),
                "currency": params["currency"],
                "customer": params["customer"],
                "payment_method": params["payment_method"],
                "status": "succeeded",
                "metadata": _metadata(params),
                "last_payment_error": None,
                "created": int(time.time()),
            }
            self.payment_intents[intent["id"]] = intent
            if self.card_outcome in {"succeeded", "processing", "requires_action"}:
                intent["status"] = self.card_outcome
                return self._ok(intent)
            intent["status"] = "requires_payment_method"
            error = {
                "error": {
                    "type": "card_error",
                    "code": self.card_outcome,
                    "message": "Your card was declined.",
                    "payment_intent": intent,
                }
            }
            return json.dumps(error), 402, {"Request-Id": new_id("req")}
        if method == "post" and path == "/v1/invoiceitems":
            item = {
                "id": new_id("ii"),
                "object": "invoiceitem",
                "amount": int(params["amount"]),
                "currency": params["currency"],
                "customer": params["customer"],
                "description": params.get("description"),
                "invoice": None,
                "metadata": _metadata(params),
                "created": int(time.time()),
            }
            self.invoice_items[item["id"]] = item
            return self._ok(item)
        if method == "get" and path.startswith("/v1/invoices/") and path.endswith("/lines"):
            lines = self.invoice_lines[path.split("/")[3]]
            start = 0
            if "starting_after" in params:
                start = 1 + next(
                    i for i, x in enumerate(lines) if x["id"] == params["starting_after"]
                )
            page = lines[start : start + int(params.get("limit", 10))]
            return self._ok(
                {
                    "object": "list",
                    "data": page,
                    "has_more": start + len(page) < len(lines),
                    "url": path,
                }
            )
        if method == "get" and path == "/v1/refunds" and "payment_intent" in params:
            found = [r for r in self.refunds if r["payment_intent"] == params["payment_intent"]]
            return self._ok(
                {"object": "list", "data": found, "has_more": False, "url": "/v1/refunds"}
            )
        if method == "get" and path.startswith("/v1/subscriptions/"):
            subscription = self.subscriptions.get(path.rsplit("/", 1)[1])
            if subscription is None:
                missing = {"error": {"type": "invalid_request_error", "code": "resource_missing"}}
                return json.dumps(missing), 404, {}
            return self._ok(subscription)
        if method == "get" and path == "/v1/subscriptions":
            found = [s for s in self.subscriptions.values() if s["customer"] == params["customer"]]
            found.sort(key=lambda s: s["created"], reverse=True)
            limit = int(params.get("limit", 10))
            return self._ok(
                {
                    "object": "list",
                    "data": found[:limit],
                    "has_more": len(found) > limit,
                    "url": "/v1/subscriptions",
                }
            )
        if method == "get" and path == "/v1/checkout/sessions" and "payment_intent" in params:
            found = [
                c for c in self.checkout_sessions if c["payment_intent"] == params["payment_intent"]
            ]
            return self._ok({"object": "list", "data": found, "has_more": False, "url": path})
        for prefix, objects in (
            ("/v1/payment_intents", self.payment_intents),
            ("/v1/invoiceitems", self.invoice_items),
            ("/v1/refunds", {r["id"]: r for r in self.refunds}),
        ):
            if method == "get" and path == prefix:
                return self._listing(list(objects.values()), params, path)
            if method == "get" and path.startswith(prefix + "/"):
                found = objects.get(path.rsplit("/", 1)[1])
                if found is None:
                    return json.dumps(self._missing), 404, {}
                return self._ok(found)
        raise AssertionError(f"Unexpected Stripe call {method.upper()} {path}")

    _missing = {"error": {"type": "invalid_request_error", "code": "resource_missing"}}

    def _listing(self, objects: list[dict], params: dict[str, str], url: str):
        """A list answer: created on or after `created[gte]`, newest first, `limit` a page."""
        since = int(params.get("created[gte]", 0))
        found = sorted(
            (o for o in objects if o.get("created", 0) >= since),
            key=lambda o: (o.get("created", 0), o["id"]),
            reverse=True,
        )
        start = 0
        if "starting_after" in params:
            start = 1 + next(i for i, o in enumerate(found) if o["id"] == params["starting_after"])
        page = found[start : start + int(params.get("limit", 10))]
        return self._ok(
            {"object": "list", "data": page, "has_more": start + len(page) < len(found), "url": url}
        )

    @staticmethod
    def _ok(body: dict):
        return json.dumps(body), 200, {"Request-Id": new_id("req")}


def subscription_started(
    api: FakeStripeAPI, *, customer: str, membership_id: int | None = None
) -> dict:
    """Stripe now holds an active subscription of `customer` that started now (as after Checkout)."""
    now = datetime.now(tz=UTC)
    subscription = subscription_object(
        subscription_id=new_id("sub"),
        customer=customer,
        status="active",
        period_start=now,
        period_end=now + timedelta(days=30),
        membership_id=membership_id,
    )
    api.subscriptions[subscription["id"]] = subscription
    return subscription


def subscription_held(api: FakeStripeAPI, membership, *, status: str = "active") -> dict:
    """Stripe holds `membership`'s own subscription (a StripeMembershipFactory's ids), its
    period starting now."""
    now = datetime.now(tz=UTC)
    subscription = subscription_object(
        subscription_id=membership.stripe_subscription_id,
        customer=membership.stripe_customer_id,
        status=status,
        period_start=now,
        period_end=now + timedelta(days=30),
        membership_id=membership.pk,
    )
    api.subscriptions[subscription["id"]] = subscription
    return subscription


def fake_stripe_install(*, settings, monkeypatch, site_url: str) -> FakeStripeAPI:
    """Stripe billing mode with the test keys; every SDK request goes to a new recording fake.

    `settings` and `monkeypatch` are the pytest fixtures, so everything is undone after the test.
    """
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.SITE_URL = site_url
    fake = FakeStripeAPI()
    monkeypatch.setattr(stripe, "default_http_client", fake)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    return fake


# Objects in the pinned API version's shape.


def subscription_object(
    *,
    subscription_id: str,
    customer: str,
    status: str,
    period_start: datetime,
    period_end: datetime,
    membership_id: int | None = None,
    cancel_at_period_end: bool = False,
    ended_at: datetime | None = None,
) -> dict:
    start, end = ts(period_start), ts(period_end)
    return {
        "id": subscription_id,
        "object": "subscription",
        "application": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": start,
        "billing_mode": {"type": "classic"},
        "cancel_at": end if cancel_at_period_end else None,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": ts(ended_at) if ended_at else None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": start,
        "currency": "usd",
        "customer": customer,
        "default_payment_method": "pm_1TgCard",
        "discounts": [],
        "ended_at": ts(ended_at) if ended_at else None,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{subscription_id[4:]}",
                    "object": "subscription_item",
                    "created": start,
                    "current_period_end": end,
                    "current_period_start": start,
                    "discounts": [],
                    "metadata": {},
                    "price": {
                        "id": PRICE_ID,
                        "object": "price",
                        "active": True,
                        "currency": "usd",
                        "product": "prod_TgMembership",
                        "recurring": {"interval": "month", "interval_count": 1},
                        "type": "recurring",
                        "unit_amount": 10000,
                    },
                    "quantity": 1,
                    "subscription": subscription_id,
                }
            ],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": {"membership_id": str(membership_id)} if membership_id else {},
        "start_date": start,
        "status": status,
        "trial_end": None,
        "trial_start": None,
    }


def invoice_object(
    *,
    subscription: dict,
    paid: bool,
    billing_reason: str = "subscription_cycle",
    attempt_count: int = 1,
) -> dict:
    item = subscription["items"]["data"][0]
    start, end = item["current_period_start"], item["current_period_end"]
    invoice_id = new_id("in")
    return {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "amount_due": 10000,
        "amount_paid": 10000 if paid else 0,
        "amount_remaining": 0 if paid else 10000,
        "attempt_count": attempt_count,
        "attempted": True,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": start,
        "currency": "usd",
        "customer": subscription["customer"],
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice_id}",
        "lines": {
            "object": "list",
            "data": [
                {
                    "id": new_id("il"),
                    "object": "line_item",
                    "amount": 10000,
                    "currency": "usd",
                    "description": "1 × Monthly membership (at $100.00 / month)",  # noqa: RUF001
                    "invoice": invoice_id,
                    "parent": {
                        "invoice_item_details": None,
                        "subscription_item_details": {
                            "invoice_item": None,
                            "proration": False,
                            "proration_details": {"credited_items": None},
                            "subscription": subscription["id"],
                            "subscription_item": item["id"],
                        },
                        "type": "subscription_item_details",
                    },
                    "period": {"end": end, "start": start},
                    "pricing": {
                        "price_details": {"price": PRICE_ID, "product": "prod_TgMembership"},
                        "type": "price_details",
                        "unit_amount_decimal": "10000",
                    },
                    "quantity": 1,
                }
            ],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None if paid else start + 3 * 86400,
        "number": f"TG-{invoice_id[-4:]}",
        "parent": {
            "quote_details": None,
            "subscription_details": {
                "metadata": subscription["metadata"],
                "subscription": subscription["id"],
            },
            "type": "subscription_details",
        },
        "period_end": start,
        "period_start": start,
        "status": "paid" if paid else "open",
        "status_transitions": {
            "finalized_at": start,
            "marked_uncollectible_at": None,
            "paid_at": start if paid else None,
            "voided_at": None,
        },
        "subtotal": 10000,
        "total": 10000,
    }


def invoice_item_line(item: dict, *, invoice_id: str = "") -> dict:
    """The invoice line Stripe makes of an invoice item (its metadata copied onto the line)."""
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": item["amount"],
        "currency": item["currency"],
        "description": item.get("description"),
        "invoice": invoice_id,
        "metadata": dict(item.get("metadata") or {}),
        "parent": {
            "invoice_item_details": {
                "invoice_item": item["id"],
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": None,
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        },
        "period": {"end": int(time.time()), "start": int(time.time())},
        "quantity": 1,
    }


def invoice_with_items(
    api: FakeStripeAPI, *, subscription: dict, items: list[dict], lines_in_event: int = 10
) -> dict:
    """The paid invoice of `subscription`'s next period carrying `items` (invoice items as
    Toolgate made them); the event holds the first `lines_in_event` lines, as Stripe's does,
    and the fake answers `GET /v1/invoices/<id>/lines` with all of them."""
    invoice = invoice_object(subscription=subscription, paid=True)
    lines = invoice["lines"]["data"] + [
        invoice_item_line(item, invoice_id=invoice["id"]) for item in items
    ]
    total = sum(line["amount"] for line in lines)
    api.invoice_lines[invoice["id"]] = lines
    invoice.update(amount_due=total, amount_paid=total, subtotal=total, total=total)
    invoice["lines"].update(
        data=lines[:lines_in_event],
        has_more=len(lines) > lines_in_event,
        total_count=len(lines),
    )
    return invoice


def checkout_session_object(*, membership_id: int, customer: str, subscription_id: str) -> dict:
    session_id = new_id("cs_test")
    base = settings.SITE_URL + "/billing/"
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": 10000,
        "amount_total": 10000,
        "cancel_url": base + "?checkout=canceled",
        "client_reference_id": str(membership_id),
        "created": int(time.time()) - 60,
        "currency": "usd",
        "customer": customer,
        "customer_details": {"email": "member@example.org", "name": None, "tax_exempt": "none"},
        "expires_at": int(time.time()) + 86340,
        "invoice": new_id("in"),
        "livemode": False,
        "metadata": {"membership_id": str(membership_id)},
        "mode": "subscription",
        "payment_status": "paid",
        "status": "complete",
        "subscription": subscription_id,
        "success_url": base + "?checkout=success&session_id={CHECKOUT_SESSION_ID}",
        "ui_mode": "hosted",
        "url": None,
    }


def payment_session_object(
    checkout_call: Request, *, status: str = "complete", payment_status: str = "paid"
) -> dict:
    """The payment-mode session Stripe holds for a `POST /v1/checkout/sessions` Toolgate sent,
    as a completed (or expired) Checkout shows it in events."""
    params = checkout_call.params
    answer = checkout_call.answer or {}
    amount = int(params["line_items[0][price_data][unit_amount]"])
    paid = status == "complete" and payment_status == "paid"
    return {
        "id": answer["id"],
        "object": "checkout.session",
        "allow_promotion_codes": True,
        "amount_subtotal": amount,
        "amount_total": amount,
        "cancel_url": params["cancel_url"],
        "client_reference_id": params["client_reference_id"],
        "created": int(time.time()) - 60,
        "currency": params["line_items[0][price_data][currency]"],
        "customer": params.get("customer"),
        "customer_details": {"email": params.get("customer_email"), "tax_exempt": "none"},
        "expires_at": int(params["expires_at"]),
        "livemode": False,
        "metadata": {
            "toolgate_kind": params["metadata[toolgate_kind]"],
            "toolgate_ref": params["metadata[toolgate_ref]"],
        },
        "mode": "payment",
        "payment_intent": new_id("pi") if paid else None,
        "payment_status": payment_status if status == "complete" else "unpaid",
        "status": status,
        "subscription": None,
        "success_url": params["success_url"],
        "ui_mode": "hosted",
        "url": None,
    }


def checkout_paid(api: FakeStripeAPI, checkout_call: Request) -> dict:
    """The member paid the payment-mode session of `checkout_call`: Stripe now holds the
    completed session and its succeeded payment intent (with the metadata Toolgate asked
    Checkout to put on it), whether or not its webhook arrives. Returns the session."""
    session = payment_session_object(checkout_call)
    params = checkout_call.params
    api.checkout_sessions.append(session)
    api.payment_intents[session["payment_intent"]] = {
        "id": session["payment_intent"],
        "object": "payment_intent",
        "amount": session["amount_total"],
        "currency": session["currency"],
        "customer": session["customer"],
        "status": "succeeded",
        "metadata": _metadata(params, "payment_intent_data[metadata]["),
        "last_payment_error": None,
        "created": int(time.time()),
    }
    return session


def refund_in_dashboard(api: FakeStripeAPI, *, payment_intent: str, amount: int) -> dict:
    """Staff refunded part of a payment in the Stripe dashboard: Stripe now holds this refund."""
    refund = {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "payment_intent": payment_intent,
        "status": "succeeded",
        "currency": "usd",
        "metadata": {},
        "created": int(time.time()),
    }
    api.refunds.append(refund)
    return refund


def payment_intent_ended(
    api: FakeStripeAPI,
    intent_id: str,
    *,
    succeeded: bool,
    code: str = "card_declined",
    decline_code: str = "insufficient_funds",
) -> dict:
    """Stripe finished an intent Toolgate made (the fake holds it): it succeeded, or failed
    with the bank's reason. The object as its payment_intent.* event shows it."""
    intent = api.payment_intents[intent_id]
    intent["status"] = "succeeded" if succeeded else "requires_payment_method"
    intent["last_payment_error"] = (
        None
        if succeeded
        else {
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": "Your card has insufficient funds.",
        }
    )
    return copy.deepcopy(intent)


def charge_object(*, payment_intent: str, amount: int, amount_refunded: int, currency="usd"):
    return {
        "id": new_id("ch"),
        "object": "charge",
        "amount": amount,
        "amount_refunded": amount_refunded,
        "captured": True,
        "currency": currency,
        "customer": None,
        "payment_intent": payment_intent,
        "refunded": amount_refunded == amount,
        "status": "succeeded",
    }


def event(
    kind: str, obj: dict, *, created: int | None = None, previous: dict | None = None
) -> dict:
    data: dict = {"object": copy.deepcopy(obj)}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": new_id("evt"),
        "object": "event",
        "api_version": settings.STRIPE_API_VERSION,
        "created": created if created is not None else int(time.time()),
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def checkout_completed(membership, subscription: dict) -> dict:
    """The checkout.session.completed event of `membership` paying for `subscription`."""
    return event(
        "checkout.session.completed",
        checkout_session_object(
            membership_id=membership.pk,
            customer=membership.stripe_customer_id,
            subscription_id=subscription["id"],
        ),
    )


def sign(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: t=<unix time>,v1=<HMAC-SHA256 of "<t>.<payload>">."""
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def encode(event_body: dict) -> str:
    # Stripe sends pretty-printed JSON; the signature covers these exact bytes.
    return json.dumps(event_body, indent=2)


def reconcile(*args: str) -> str:
    """`manage.py reconcile_billing` with `args`: what it printed."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("reconcile_billing", *args, stdout=out)
    return out.getvalue()
