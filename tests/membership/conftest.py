"""Fixtures of the membership tests: Stripe billing switched on against a fake Stripe API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from membership import hooks
from tests.membership import stripe_support


@pytest.fixture
def stripe_api(db, settings, monkeypatch) -> stripe_support.FakeStripeAPI:
    """Stripe billing mode with test keys; every SDK request goes to a recording fake."""
    return stripe_support.fake_stripe_install(
        settings=settings, monkeypatch=monkeypatch, site_url="https://space.example.org"
    )


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """Post an event to the real webhook endpoint, signed as Stripe signs it (or as given)."""

    def post(event: dict | str, *, signature: str | None = "sign", **sign_kwargs):
        payload = event if isinstance(event, str) else stripe_support.encode(event)
        headers = {}
        if signature == "sign":
            headers["HTTP_STRIPE_SIGNATURE"] = stripe_support.sign(payload, **sign_kwargs)
        elif signature is not None:
            headers["HTTP_STRIPE_SIGNATURE"] = signature
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("stripe_webhook"), payload, content_type="application/json", **headers
            )

    return post


@pytest.fixture
def access_lost():
    """The members the gate hook was told about, in order."""
    told = []

    def receiver(sender, member, **kwargs):
        told.append(member.pk)

    hooks.member_access_lost.connect(receiver, weak=False)
    yield told
    hooks.member_access_lost.disconnect(receiver)
