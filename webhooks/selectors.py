"""Reads for the webhook pages: endpoints with their health, and an endpoint's delivery log."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from webhooks.models import Delivery, DeliveryState, Endpoint


def endpoints_listing() -> QuerySet[Endpoint]:
    """Every endpoint, with how many deliveries wait for it."""
    return Endpoint.objects.annotate(
        pending=Count("deliveries", filter=Q(deliveries__state=DeliveryState.PENDING))
    )


def endpoint_deliveries(endpoint: Endpoint) -> QuerySet[Delivery]:
    """The endpoint's deliveries, newest first, each with its attempts (newest first)."""
    return Delivery.objects.filter(endpoint=endpoint).prefetch_related("attempt_log")
