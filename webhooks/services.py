"""Webhook actions: register and change endpoints, record events as deliveries (in the caller's
transaction), and deliver an endpoint's deliveries in order, retrying with exponential backoff.

Delivery never runs in a web request: `events_record` writes the rows and queues the task runner
at commit; `endpoint_deliver` runs in a worker (webhooks.tasks). One worker at a time delivers to
an endpoint (a lease on its row), oldest first, and a delivery that fails holds back the later
ones of its endpoint until it succeeds: receivers get each endpoint's events in order.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q
from django.utils.translation import gettext as _

from core import clock
from core.submissions import submission_claim
from membership.models import User
from webhooks import payloads, signing, transport
from webhooks.emails import endpoint_disabled_email
from webhooks.errors import WebhookError
from webhooks.events import TEST_EVENT, EventType
from webhooks.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Endpoint,
    PayloadFormat,
)

logger = logging.getLogger(__name__)


# --- Endpoints -------------------------------------------------------------------------------


def _checked(*, url: str, event_types: Sequence[str], payload_format: str) -> tuple[str, list[str]]:
    url = url.strip()
    try:
        transport.checked_address(url)
    except transport.Refused as refused:
        raise WebhookError(str(refused)) from None
    unknown = set(event_types) - set(EventType.values)
    if unknown:
        raise WebhookError(
            _("Unknown event types: %(value)s.") % {"value": ", ".join(sorted(unknown))}
        )
    if not event_types:
        raise WebhookError(_("Choose at least one event type for the endpoint to receive."))
    if payload_format not in PayloadFormat.values:
        raise WebhookError(
            _("%(payload_format)s is not a payload format.")
            % {"payload_format": repr(payload_format)}
        )
    # In the order of EventType, so that the page lists them as the form does.
    return url, [value for value in EventType.values if value in set(event_types)]


def endpoint_create(
    *,
    name: str,
    url: str,
    event_types: Sequence[str],
    payload_format: str = PayloadFormat.STANDARD,
    actor: User | None,
    token: uuid.UUID | None = None,
) -> Endpoint:
    """Register an endpoint with a fresh secret. Its URL must be HTTPS and resolve to public
    addresses only (checked again before every delivery)."""
    url, types = _checked(url=url, event_types=event_types, payload_format=payload_format)
    with transaction.atomic():
        submission_claim(token)
        return Endpoint.objects.create(
            name=name.strip() or url,
            url=url,
            event_types=types,
            payload_format=payload_format,
            secret=signing.secret_new(),
            created_by=actor,
        )


def endpoint_update(
    *, endpoint: Endpoint, name: str, url: str, event_types: Sequence[str], payload_format: str
) -> Endpoint:
    url, types = _checked(url=url, event_types=event_types, payload_format=payload_format)
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.name, locked.url, locked.event_types = name.strip() or url, url, types
        locked.payload_format = payload_format
        locked.save(update_fields=["name", "url", "event_types", "payload_format"])
    return locked


def endpoint_rotate_secret(*, endpoint: Endpoint) -> Endpoint:
    """A new secret from the next delivery on (retries of older deliveries are signed with it)."""
    Endpoint.objects.filter(pk=endpoint.pk).update(secret=signing.secret_new())
    endpoint.refresh_from_db()
    return endpoint


def endpoint_disable(*, endpoint: Endpoint, reason: str) -> Endpoint:
    """Stop delivering; what is pending waits (in order) until the endpoint is enabled again."""
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if not locked.is_active:
            raise WebhookError(_("%(name)s is disabled already.") % {"name": locked.name})
        _disable(locked, reason=reason.strip() or "Disabled by staff.", now=clock.now())
    return locked


def endpoint_enable(*, endpoint: Endpoint) -> Endpoint:
    """Deliver again, starting with what waited; the day of failures counts from zero."""
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.is_active:
            raise WebhookError(_("%(name)s is enabled already.") % {"name": locked.name})
        locked.is_active, locked.disabled_at, locked.disabled_reason = True, None, ""
        locked.failing_since = None
        locked.save(update_fields=["is_active", "disabled_at", "disabled_reason", "failing_since"])
        Delivery.objects.filter(endpoint=locked, state=DeliveryState.PENDING).update(
            next_attempt_at=clock.now()
        )
        _queue_delivery(locked.pk)
    return locked


def endpoint_delete(*, endpoint: Endpoint) -> None:
    """Forget the endpoint, its pending deliveries and its log."""
    endpoint.delete()


def endpoint_send_test(*, endpoint: Endpoint) -> Delivery:
    """Queue a `webhook.test` event to this endpoint alone (after whatever it has pending)."""
    now = clock.now()
    with transaction.atomic():
        if not Endpoint.objects.filter(pk=endpoint.pk, is_active=True).exists():
            raise WebhookError(_("Enable the endpoint before sending it a test event."))
        data = {"endpoint": {"id": endpoint.pk, "name": endpoint.name}}
        sentence = f"Test message from Toolgate to {endpoint.name}: webhooks work."
        (delivery,) = _deliveries_for(
            [endpoint], event_type=TEST_EVENT, data=data, sentence=sentence, now=now
        )
        _queue_delivery(endpoint.pk)
    return delivery


# --- Recording events (the core.events sink) --------------------------------------------------


def _message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _body(
    *, endpoint: Endpoint, event_type: str, data: dict[str, Any], sentence: str, at: str
) -> str:
    if endpoint.payload_format == PayloadFormat.CHAT:
        # Slack reads "text", Discord "content"; each ignores the other's field.
        return json.dumps({"text": sentence, "content": sentence}, ensure_ascii=False)
    return json.dumps(
        {"type": event_type, "timestamp": at, "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _deliveries_for(
    endpoints: Iterable[Endpoint],
    *,
    event_type: str,
    data: dict[str, Any],
    sentence: str,
    now: datetime,
) -> list[Delivery]:
    message_id, at = _message_id(), now.isoformat().replace("+00:00", "Z")
    return Delivery.objects.bulk_create(
        Delivery(
            endpoint=endpoint,
            message_id=message_id,
            event_type=event_type,
            body=_body(
                endpoint=endpoint, event_type=event_type, data=data, sentence=sentence, at=at
            ),
            created_at=now,
            next_attempt_at=now,
        )
        for endpoint in endpoints
    )


def _queue_delivery(endpoint_id: int) -> None:
    from webhooks.tasks import deliver_endpoint

    deliver_endpoint.delay_on_commit(endpoint_id)


def events_record(kind: str, subjects: Iterable[Model]) -> int:
    """Record `kind` about each subject as a delivery to every active endpoint subscribed to its
    event type, in the caller's transaction; the task runner is asked at commit. Returns how many
    deliveries were written."""
    endpoints = list(Endpoint.objects.filter(is_active=True))
    if not endpoints:
        return 0
    now, written, touched = clock.now(), 0, set[int]()
    for subject in subjects:
        event_type = payloads.event_type_of(kind, subject)
        receivers = [e for e in endpoints if event_type and event_type in e.event_types]
        if event_type is None or not receivers:
            continue
        data, sentence = payloads.describe(event_type, subject)
        written += len(
            _deliveries_for(receivers, event_type=event_type, data=data, sentence=sentence, now=now)
        )
        touched.update(e.pk for e in receivers)
    for endpoint_id in sorted(touched):
        _queue_delivery(endpoint_id)
    return written


class SiteEvents:
    """The sink installed in core.events (webhooks.apps)."""

    def record(self, kind: str, subjects: Iterable[Model]) -> None:
        events_record(kind, subjects)


# --- Delivering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryRun:
    """What one run of `endpoint_deliver` did: how many deliveries went, and when to try again
    (None: nothing failed in this run, or the endpoint is disabled or busy elsewhere)."""

    delivered: int
    retry_at: datetime | None


def retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th failed try a delivery is tried again: the first wait
    WEBHOOK_RETRY_BACKOFF_SECONDS, doubled after each failure, at most WEBHOOK_RETRY_MAX_SECONDS."""
    first = settings.WEBHOOK_RETRY_BACKOFF_SECONDS
    return timedelta(
        seconds=min(first * 2 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_MAX_SECONDS)
    )


def _lease(endpoint_id: int, owner: str, now: datetime) -> bool:
    """Take (or renew) the endpoint's lease: true when `owner` holds it now."""
    until = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 3 + 30)
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner)
    return bool(
        Endpoint.objects.filter(free, pk=endpoint_id, is_active=True).update(
            lease_until=until, lease_owner=owner
        )
    )


def endpoint_deliver(*, endpoint_id: int, now: datetime | None = None) -> DeliveryRun:
    """Send the endpoint's due deliveries, oldest first, stopping at the first that fails (it is
    tried again after its backoff; the later ones wait behind it)."""
    owner = uuid.uuid4().hex
    delivered = 0
    try:
        while _lease(endpoint_id, owner, now or clock.now()):
            at = now or clock.now()
            head = _head(endpoint_id)
            if head is None or head.next_attempt_at > at:
                _release(endpoint_id, owner)
                # A delivery recorded while this run held the lease found it taken: look again
                # now that it is free, rather than leave it to the next sweep.
                if _head_due(endpoint_id, now or clock.now()):
                    continue
                return DeliveryRun(delivered, None)
            endpoint = Endpoint.objects.get(pk=endpoint_id)
            answer = _attempt(endpoint, head, at)
            if not _settle(endpoint_id, head.pk, answer, at):
                _release(endpoint_id, owner)
                head.refresh_from_db()
                active = Endpoint.objects.filter(pk=endpoint_id, is_active=True).exists()
                return DeliveryRun(delivered, head.next_attempt_at if active else None)
            delivered += 1
    except (Endpoint.DoesNotExist, Delivery.DoesNotExist):
        pass  # staff deleted the endpoint meanwhile: nothing is left to deliver
    return DeliveryRun(delivered, None)


def _head(endpoint_id: int) -> Delivery | None:
    return (
        Delivery.objects.filter(endpoint_id=endpoint_id, state=DeliveryState.PENDING)
        .order_by("pk")
        .first()
    )


def _head_due(endpoint_id: int, at: datetime) -> bool:
    head = _head(endpoint_id)
    return head is not None and head.next_attempt_at <= at


def _release(endpoint_id: int, owner: str) -> None:
    Endpoint.objects.filter(pk=endpoint_id, lease_owner=owner).update(
        lease_until=None, lease_owner=""
    )


def _attempt(endpoint: Endpoint, delivery: Delivery, at: datetime) -> transport.Answer:
    headers = signing.headers(
        secret=endpoint.secret,
        message_id=delivery.message_id,
        timestamp=int(at.timestamp()),
        body=delivery.body,
    )
    try:
        return transport.post(endpoint.url, body=delivery.body.encode(), headers=headers)
    except transport.Refused as refused:
        return transport.Answer(status=None, milliseconds=0, error=f"Not sent: {refused}")


def _settle(endpoint_id: int, delivery_id: int, answer: transport.Answer, at: datetime) -> bool:
    """Log the attempt and move the delivery on; true when it was delivered."""
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        DeliveryAttempt.objects.create(
            delivery=delivery,
            at=at,
            status_code=answer.status,
            response_ms=answer.milliseconds,
            response_excerpt=answer.excerpt,
            error=answer.error
            or ("" if answer.ok else f"The receiver answered {answer.status}, not 2xx."),
        )
        delivery.attempts += 1
        if answer.ok:
            delivery.state, delivery.delivered_at = DeliveryState.DELIVERED, at
            delivery.save(update_fields=["state", "delivered_at", "attempts"])
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                endpoint.save(update_fields=["failing_since"])
            return True
        delivery.next_attempt_at = at + retry_delay(delivery.attempts)
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        if endpoint.failing_since is None:
            endpoint.failing_since = at
            endpoint.save(update_fields=["failing_since"])
        elif at - endpoint.failing_since >= timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS):
            _disable(
                endpoint,
                reason=f"Every delivery failed for {settings.WEBHOOK_DISABLE_AFTER_HOURS} hours "
                f"(last: {answer.error or answer.status}).",
                now=at,
            )
            endpoint_disabled_email.delay_on_commit(endpoint.pk)
    return False


def _disable(endpoint: Endpoint, *, reason: str, now: datetime) -> None:
    endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason[:500]
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason"])


def endpoints_due(*, now: datetime | None = None) -> list[int]:
    """Active endpoints with a delivery due and nobody delivering: the sweep queues them (work
    whose task was lost, a worker that died, retries whose task went missing)."""
    now = now or clock.now()
    return list(
        Endpoint.objects.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now),
            is_active=True,
            deliveries__state=DeliveryState.PENDING,
            deliveries__next_attempt_at__lte=now,
        )
        .distinct()
        .values_list("pk", flat=True)
    )
