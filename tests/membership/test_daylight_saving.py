"""Membership periods across daylight-saving changes: they are counted in UTC, so the changes of
14 March and 7 November 2027 neither add nor take a real hour.

The decision (docs/bookings.md, "Time"): a paid month runs to the same UTC time a calendar month
later, as Stripe's period timestamps do, and the grace period is that many real days; shown in
Los Angeles the paid-through time moves by the hour the clocks moved.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from membership import selectors, services
from membership.models import MembershipStatus
from tests.factories.membership import MembershipFactory


@pytest.mark.parametrize(
    ("paid_at", "paid_through"),
    [
        # 10:00 PDT on 20 October: paid through 09:00 PST on 20 November.
        (datetime(2027, 10, 20, 17, tzinfo=UTC), datetime(2027, 11, 20, 17, tzinfo=UTC)),
        # 10:00 PST on 20 February: paid through 11:00 PDT on 20 March.
        (datetime(2027, 2, 20, 18, tzinfo=UTC), datetime(2027, 3, 20, 18, tzinfo=UTC)),
    ],
    ids=["across fall back", "across spring forward"],
)
def test_a_manual_payment_runs_a_calendar_month_in_utc(db, staff_user, paid_at, paid_through):
    membership = MembershipFactory(status=MembershipStatus.CANCELED, current_period_end=None)
    with time_machine.travel(paid_at, tick=False):
        payment = services.payment_record_manual(member=membership.member, actor=staff_user)
    membership.refresh_from_db()
    assert payment.period_end == membership.current_period_end == paid_through


@pytest.mark.parametrize(
    "paid_through",
    [datetime(2027, 11, 5, 17, tzinfo=UTC), datetime(2027, 3, 12, 18, tzinfo=UTC)],
    ids=["fall back inside the grace", "spring forward inside the grace"],
)
def test_the_grace_period_is_real_days_across_a_change(db, paid_through):
    """Three days of grace are 72 real hours even when the clocks change inside them."""
    membership = MembershipFactory(
        status=MembershipStatus.PAST_DUE, current_period_end=paid_through
    )
    membership.refresh_from_db()  # as the access decision reads it: UTC from the database
    end = selectors.grace_ends(membership.current_period_end)
    assert end - paid_through == timedelta(hours=72)
    assert selectors.membership_in_good_standing(membership, at=end - timedelta(microseconds=1))
    assert not selectors.membership_in_good_standing(membership, at=end)
