"""System checks: a Stripe-billed site without a webhook secret never hears about payments."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register


@register()
def stripe_settings_check(app_configs, **kwargs) -> list[Warning]:
    if settings.STRIPE_SECRET_KEY and not settings.STRIPE_WEBHOOK_SECRET:
        return [
            Warning(
                "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: every Stripe webhook "
                "will be refused and memberships will not follow payments.",
                hint="Copy the endpoint's signing secret (whsec_...) into STRIPE_WEBHOOK_SECRET; "
                "see docs/billing.md.",
                id="membership.W001",
            )
        ]
    return []
