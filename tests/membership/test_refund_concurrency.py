"""Two runs of one refund at once (the task queued at the commit and the sweep's, or a task a
worker got redelivered), on real PostgreSQL connections: Stripe is asked once, the ledger has
one refund."""

from __future__ import annotations

import pytest
from django.db import connection

from core import clock
from membership.billing.refund_sending import refund_attempt
from membership.models import LedgerEntry, StripeRefund
from tests.concurrency import at_once
from tests.factories.membership import StripeRefundFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("round_", range(3))
def test_two_runs_of_one_refund_at_once_ask_stripe_once(round_, stripe_api):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks between real connections")
    asked = StripeRefundFactory(next_attempt_at=clock.now())
    now = clock.now()
    results = at_once(
        lambda: refund_attempt(refund_id=asked.pk, now=now),
        lambda: refund_attempt(refund_id=asked.pk, now=now),
    )
    assert sorted(results) == ["", "succeeded"]
    assert len(stripe_api.calls("post", "/v1/refunds")) == 1
    asked.refresh_from_db()
    assert asked.state == StripeRefund.State.SUCCEEDED
    assert LedgerEntry.objects.filter(kind="refund", refund_of=asked.payment).count() == 1
