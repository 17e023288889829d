"""Factories of the webhooks app."""

from __future__ import annotations

import factory

from webhooks import signing
from webhooks.events import EventType
from webhooks.models import Delivery, Endpoint


class EndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Endpoint

    name = factory.Sequence(lambda n: f"Receiver {n}")
    url = "https://hooks.example.com/toolgate"
    event_types = factory.LazyFunction(lambda: list(EventType.values))
    secret = factory.LazyFunction(signing.secret_new)


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A test event waiting for its first try."""

    class Meta:
        model = Delivery

    endpoint = factory.SubFactory(EndpointFactory)
    message_id = factory.Sequence(lambda n: f"msg_{n:032x}")
    event_type = "webhook.test"
    body = '{"type":"webhook.test","timestamp":"2030-01-07T16:00:00Z","data":{}}'
