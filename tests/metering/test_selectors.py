"""Machine time this month as the member's page reads it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from metering.selectors import member_month_usage

LA = ZoneInfo("America/Los_Angeles")


@pytest.mark.django_db
def test_a_session_the_gate_never_ended_counts_no_further_than_its_grant(gate_session, member):
    """A crashed gate's session stays open; the gate stopped at the grant's end, so does the bill."""
    started = datetime(2026, 10, 10, 9, tzinfo=LA)
    gate_session(started, None)  # granted four hours
    (usage,) = member_month_usage(member, now=started + timedelta(hours=30))
    assert (usage.time, usage.charged_minutes, usage.amount_minor, usage.running) == (
        timedelta(hours=4),
        240,
        12000,
        True,
    )


@pytest.mark.django_db
def test_only_this_local_months_part_of_a_session_counts(gate_session, member):
    gate_session(datetime(2026, 9, 30, 23, tzinfo=LA), 2)
    (usage,) = member_month_usage(member, now=datetime(2026, 10, 2, tzinfo=LA))
    assert (usage.time, usage.amount_minor) == (timedelta(hours=1), 3000)
