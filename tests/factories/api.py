"""Factories for the api app's models."""

from __future__ import annotations

import factory

from api import services
from api.models import ApiCredential, ApiWrite, CredentialKind
from tests.factories.membership import UserFactory


class ApiCredentialFactory(factory.django.DjangoModelFactory):
    """A read-only personal token; its secret is `tg_token_<prefix>_secret-<n>`."""

    class Meta:
        model = ApiCredential

    kind = CredentialKind.TOKEN
    name = "calendar script"
    prefix = factory.Sequence(lambda n: f"{n:012x}")
    digest = factory.LazyAttribute(
        lambda o: services.credential_digest(f"tg_{o.kind}_{o.prefix}_secret")
    )
    user = factory.SubFactory(UserFactory)
    scopes = factory.LazyFunction(lambda: ["read"])


class ApiWriteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiWrite

    credential = factory.SubFactory(ApiCredentialFactory)
    actor = factory.SelfAttribute("credential.user")
    reason = "booking created"
    method = "POST"
    path = "/api/v1/bookings"
    object_type = "booking"
    object_id = "1"
