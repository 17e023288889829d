"""Equipment fixtures: Stripe billing against the fake Stripe API and signed webhook delivery
(day passes are paid through Checkout)."""

from tests.membership.conftest import deliver, stripe_api  # noqa: F401 (fixtures)
