"""The one grace rule: a membership opens machines until its paid-through date plus the grace
period, and the lapse job records the lapse exactly when that rule says access ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from membership import selectors
from membership.billing.lapse import membership_lapse
from membership.models import MembershipStatus
from tests.factories.membership import MembershipFactory

PAID_THROUGH = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)


def test_grace_ends_the_configured_days_after_the_paid_through_date(settings):
    settings.MEMBERSHIP_GRACE_DAYS = 5
    assert selectors.grace_ends(PAID_THROUGH) == PAID_THROUGH + timedelta(days=5)


@pytest.mark.parametrize("status", [MembershipStatus.ACTIVE, MembershipStatus.PAST_DUE])
def test_good_standing_ends_at_grace_end(db, status):
    membership = MembershipFactory.build(status=status, current_period_end=PAID_THROUGH)
    end = selectors.grace_ends(PAID_THROUGH)
    assert selectors.membership_in_good_standing(membership, at=end - timedelta(microseconds=1))
    assert not selectors.membership_in_good_standing(membership, at=end)


def test_a_lapse_asked_for_inside_the_grace_period_records_nothing(db):
    """The re-check under the lock: a membership paid meanwhile (or listed too early) is left
    alone, one microsecond before grace ends; at grace end the lapse is recorded."""
    membership = MembershipFactory(
        status=MembershipStatus.PAST_DUE, current_period_end=PAID_THROUGH
    )
    end = selectors.grace_ends(PAID_THROUGH)
    assert not membership_lapse(membership_id=membership.pk, now=end - timedelta(microseconds=1))
    assert not membership.changes.exists()
    assert membership_lapse(membership_id=membership.pk, now=end)
    membership.refresh_from_db()
    assert membership.lapse_recorded_for == PAID_THROUGH
