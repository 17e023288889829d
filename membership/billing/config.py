"""Which billing mode the site runs in, read from settings at call time (tests override them)."""

from __future__ import annotations

from django.conf import settings

MANUAL = "manual"
STRIPE = "stripe"


def billing_mode() -> str:
    """Stripe when a secret key is configured, otherwise manual billing at the front desk."""
    return STRIPE if settings.STRIPE_SECRET_KEY else MANUAL


def stripe_enabled() -> bool:
    return billing_mode() == STRIPE
