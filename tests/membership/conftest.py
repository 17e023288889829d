"""Fixtures of the membership tests: Stripe billing switched on against a fake Stripe API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from membership.billing import desk
from membership.models import Material, MaterialSale, MembershipStatus
from tests.factories.membership import StripeMembershipFactory
from tests.membership import stripe_support


@pytest.fixture
def stripe_api(db, settings, monkeypatch) -> stripe_support.FakeStripeAPI:
    """Stripe billing mode with test keys; every SDK request goes to a recording fake."""
    return stripe_support.fake_stripe_install(
        settings=settings, monkeypatch=monkeypatch, site_url="https://space.example.org"
    )


@pytest.fixture
def joining(stripe_api):
    """A member who just paid in Checkout: customer known, Stripe holds an active subscription."""
    membership = StripeMembershipFactory(
        status=MembershipStatus.PENDING,
        current_period_end=None,
        stripe_subscription_id="",
        stripe_subscription_status="",
    )
    subscription = stripe_support.subscription_started(
        stripe_api, customer=membership.stripe_customer_id, membership_id=membership.pk
    )
    return membership, subscription


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


class _MembersTold:
    """Compares equal to the list of member ids the gates were told lost access, so far."""

    def __init__(self, calls) -> None:
        self._calls = calls

    def __eq__(self, other) -> bool:
        return self._calls.members() == other

    def __repr__(self) -> str:
        return repr(self._calls.members())


@pytest.fixture
def access_lost(gate_calls):
    """The members the gates were told lost access, in order (`core.gates`)."""
    return _MembersTold(gate_calls)


@pytest.fixture
def acrylic(db):
    return Material.objects.create(
        name="Acrylic 3 mm", unit="sheet", price_minor=1200, stock=5, low_stock_threshold=0
    )


@pytest.fixture
def sell(stripe_api, acrylic, staff_user, django_capture_on_commit_callbacks):
    """Sell two sheets to a Stripe member's card on file, the card doing `outcome`."""

    def make(outcome: str) -> MaterialSale:
        stripe_api.card_outcome = outcome
        member = StripeMembershipFactory().member
        with django_capture_on_commit_callbacks(execute=True):
            sale = desk.material_sell(
                member=member, material=acrylic, quantity=2, method="stripe", actor=staff_user
            )
        sale.refresh_from_db()
        return sale

    return make
