"""Signed Stripe events whose body is not the shape the webhook reads.

Each is refused with 400 and logged with its event id, before anything is looked up or written:
the membership, its history, payments and the event log stay as they were, and the refused event
is not recorded (so Stripe's next delivery of a corrected event is applied, not taken for a
redelivery). Bodies are signed as Stripe signs them; only the SDK's HTTP calls are faked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from django.core import mail

from membership.models import MembershipChange, MembershipStatus, Payment, StripeEvent
from tests.membership import stripe_support as s


def _checkout(membership, subscription) -> dict:
    return s.checkout_completed(membership, subscription)


def _subscription_updated(membership, subscription) -> dict:
    return s.event("customer.subscription.updated", subscription)


def _invoice_paid(membership, subscription) -> dict:
    return s.event("invoice.paid", s.invoice_object(subscription=subscription, paid=True))


def _invoice_failed(membership, subscription) -> dict:
    return s.event(
        "invoice.payment_failed", s.invoice_object(subscription=subscription, paid=False)
    )


EVENTS: dict[str, Callable[..., dict]] = {
    "checkout.session.completed": _checkout,
    "customer.subscription.updated": _subscription_updated,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
}


@pytest.fixture
def refused(joining, stripe_api, caplog):
    """Checks that an answer is a refusal logged with the event's id that changed nothing."""
    membership, _ = joining
    caplog.set_level(logging.WARNING, logger="membership.billing.views")

    def check(response, event_id: str) -> None:
        assert response.status_code == 400, response.content
        logged = [r.getMessage() for r in caplog.records if r.name == "membership.billing.views"]
        assert any("Stripe webhook refused" in line and event_id in line for line in logged)
        membership.refresh_from_db()
        assert membership.status == MembershipStatus.PENDING
        assert membership.current_period_end is None
        assert membership.stripe_subscription_id == ""
        assert not MembershipChange.objects.exists()
        assert not Payment.objects.exists()
        assert not StripeEvent.objects.exists()
        assert stripe_api.requests == []
        assert mail.outbox == []

    return check


@pytest.mark.parametrize("kind", EVENTS)
def test_the_events_the_table_starts_from_are_applied(joining, deliver, kind):
    """Unchanged, every event below is one the webhook applies: each refusal is the wrong field."""
    membership, subscription = joining
    response = deliver(EVENTS[kind](membership, subscription))
    assert response.status_code == 200
    assert response.json()["outcome"] == "applied"
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE


@pytest.mark.parametrize(
    "depth",
    [
        pytest.param(100, id="deeper than any Stripe object"),
        pytest.param(100_000, id="deeper than the JSON parser's recursion limit"),
    ],
)
def test_a_deeply_nested_body_is_refused(joining, deliver, refused, depth):
    membership, subscription = joining
    event = _checkout(membership, subscription)
    event["data"]["object"]["metadata"]["note"] = "NESTED"
    body = s.encode(event).replace('"NESTED"', "[" * depth + "]" * depth)
    refused(deliver(body), event["id"])


@pytest.mark.parametrize(
    "value",
    [
        pytest.param('"a\\u0000b"', id="a NUL character (PostgreSQL's jsonb refuses it)"),
        pytest.param('"\\ud800"', id="an unpaired surrogate"),
        pytest.param("1e400", id="a number beyond a double"),
        pytest.param("NaN", id="NaN, which is not JSON"),
    ],
)
def test_a_value_the_event_log_cannot_store_is_refused(joining, deliver, refused, value):
    """The whole body is stored with an accepted event, so one that cannot be stored is refused."""
    membership, subscription = joining
    event = _checkout(membership, subscription)
    event["data"]["object"]["metadata"]["note"] = "VALUE"
    refused(deliver(s.encode(event).replace('"VALUE"', value)), event["id"])


def test_an_event_created_beyond_any_date_is_refused(joining, deliver, refused):
    membership, subscription = joining
    event = _checkout(membership, subscription)
    event["created"] = 10**30
    refused(deliver(event), event["id"])


@pytest.mark.parametrize("kind", ["checkout.session.completed", "customer.subscription.updated"])
def test_metadata_that_is_a_list_is_refused(joining, deliver, refused, kind):
    membership, subscription = joining
    event = EVENTS[kind](membership, subscription)
    event["data"]["object"]["metadata"] = ["x"]
    refused(deliver(event), event["id"])


def test_invoice_lines_that_are_not_a_list_are_refused(joining, deliver, refused):
    membership, subscription = joining
    event = _invoice_paid(membership, subscription)
    event["data"]["object"]["lines"]["data"] = "x"
    refused(deliver(event), event["id"])


@pytest.mark.parametrize("missing", [None, "absent"])
def test_a_subscription_event_without_the_subscription_id_is_refused(
    joining, deliver, refused, missing
):
    """Refused, not answered 503: there is no subscription to fetch, on any retry."""
    membership, subscription = joining
    event = _subscription_updated(membership, subscription)
    if missing is None:
        event["data"]["object"]["id"] = None
    else:
        del event["data"]["object"]["id"]
    refused(deliver(event), event["id"])


# Values of the wrong type (or out of range) for each kind of field the webhook reads.
WRONG = {
    "string": [7, True, ["x"], {"id": "x"}],
    "reference": [7, False, ["x"], {"id": 7}],  # an id, or the expanded object with its id
    "time": ["1767225600", 1767225600.5, True, -1, 10**30],
    "amount": ["10000", 100.5, -1, 2**40],
    "flag": ["false", 0],
    "object": ["x", ["x"], 7],
    "list": ["x", {"data": []}, 7],
}

# Where the webhook reads each field, below the event (paths into the event's JSON).
FIELDS = {
    "checkout.session.completed": [
        (("type",), "string"),
        (("created",), "time"),
        (("livemode",), "flag"),
        (("api_version",), "string"),
        (("data",), "object"),
        (("data", "object"), "object"),
        (("data", "object", "id"), "string"),
        (("data", "object", "mode"), "string"),
        (("data", "object", "client_reference_id"), "string"),
        (("data", "object", "metadata"), "object"),
        (("data", "object", "metadata", "membership_id"), "string"),
        (("data", "object", "customer"), "reference"),
        (("data", "object", "subscription"), "reference"),
    ],
    "customer.subscription.updated": [
        (("data", "object", "id"), "string"),
        (("data", "object", "customer"), "reference"),
        (("data", "object", "metadata"), "object"),
        (("data", "object", "metadata", "membership_id"), "string"),
    ],
    "invoice.payment_failed": [
        (("data", "object", "id"), "string"),
        (("data", "object", "customer"), "reference"),
        (("data", "object", "parent"), "object"),
        (("data", "object", "parent", "subscription_details"), "object"),
        (("data", "object", "parent", "subscription_details", "subscription"), "reference"),
        (("data", "object", "subscription"), "reference"),  # where versions before 2025 put it
    ],
    "invoice.paid": [
        (("data", "object", "amount_paid"), "amount"),
        (("data", "object", "currency"), "string"),
        (("data", "object", "number"), "string"),
        (("data", "object", "created"), "time"),
        (("data", "object", "period_start"), "time"),
        (("data", "object", "period_end"), "time"),
        (("data", "object", "lines"), "object"),
        (("data", "object", "lines", "data"), "list"),
        (("data", "object", "lines", "data", 0), "object"),
        (("data", "object", "lines", "data", 0, "period"), "object"),
        (("data", "object", "lines", "data", 0, "period", "start"), "time"),
        (("data", "object", "lines", "data", 0, "period", "end"), "time"),
        (("data", "object", "status_transitions"), "object"),
        (("data", "object", "status_transitions", "paid_at"), "time"),
    ],
}


def _cases():
    for kind, fields in FIELDS.items():
        for path, field_kind in fields:
            for value in WRONG[field_kind]:
                name = f"{kind}:{'.'.join(map(str, path))}={value!r}"
                yield pytest.param(kind, path, value, id=name)


@pytest.mark.parametrize(("kind", "path", "value"), list(_cases()))
def test_a_field_of_the_wrong_type_is_refused(joining, deliver, refused, kind, path, value):
    membership, subscription = joining
    event = EVENTS[kind](membership, subscription)
    *parents, last = path
    container = event
    for key in parents:
        container = container[key]
    container[last] = value
    refused(deliver(event), event["id"])
