"""The one place that builds a Stripe API client: our key, the pinned API version.

Outbound HTTP goes through `stripe.default_http_client` when one is installed (the SDK's own
extension point), else the SDK's default client. Tests install a fake there; nothing else is mocked.
"""

from __future__ import annotations

import stripe
from django.conf import settings

from membership.errors import MembershipError


class BillingUnavailable(MembershipError):
    """Stripe could not be reached or refused the request; nothing was changed here."""


def stripe_client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise BillingUnavailable("Online payment is not set up here; pay at the front desk.")
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        stripe_version=settings.STRIPE_API_VERSION,
        http_client=stripe.default_http_client,
    )
