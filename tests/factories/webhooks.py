"""Factories of the webhooks app."""

from __future__ import annotations

import factory

from webhooks import signing
from webhooks.events import EventType
from webhooks.models import Endpoint


class EndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Endpoint

    name = factory.Sequence(lambda n: f"Receiver {n}")
    url = "https://hooks.example.com/toolgate"
    event_types = factory.LazyFunction(lambda: list(EventType.values))
    secret = factory.LazyFunction(signing.secret_new)
