"""Webhook endpoints staff register, and the deliveries to them: an outbox row per endpoint and
event, written in the transaction of the change, with every attempt logged."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class PayloadFormat(models.TextChoices):
    STANDARD = "standard", "Standard Webhooks JSON (for programs)"
    CHAT = "chat", "Chat message (Slack or Discord incoming webhook)"


class Endpoint(models.Model):
    name = models.CharField(max_length=100)
    url = models.URLField("URL", max_length=500)
    # Event type values (webhooks.events.EventType) this endpoint receives.
    event_types = models.JSONField(default=list)
    payload_format = models.CharField(
        max_length=20, choices=PayloadFormat.choices, default=PayloadFormat.STANDARD
    )
    # `whsec_` + base64 of 32 random bytes (Standard Webhooks); shown to staff to give the receiver.
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Since when every attempt has failed (None: the last one succeeded, or none was made yet).
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    # A worker delivering to this endpoint holds it until then: one sender at a time keeps order.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        permissions = [("manage_endpoints", "Can manage webhook endpoints")]

    def __str__(self) -> str:
        return self.name


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    # The endpoint was deleted or the delivery skipped by staff: it will never go.
    DISCARDED = "discarded", "Discarded"


class Delivery(models.Model):
    """One event for one endpoint. `body` is the exact bytes sent, so every retry signs the same
    message; `message_id` is the `webhook-id` a receiver deduplicates on."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=40)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["endpoint", "state", "id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "message_id"], name="webhook_delivery_once_per_endpoint"
            )
        ]

    @property
    def last_attempt(self) -> DeliveryAttempt | None:
        return self.attempt_log.order_by("-pk").first()


class DeliveryAttempt(models.Model):
    """One try: what the receiver answered (status, how fast, the start of its body) or why no
    answer came."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-pk"]

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class EventCursor(models.Model):
    """How far a periodic scan for events nobody's action causes (certifications expiring with
    time) has looked, so each is announced once."""

    name = models.CharField(max_length=40, unique=True)
    until = models.DateTimeField()
