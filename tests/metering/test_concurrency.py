"""Two posting runs at once (beat and a command by hand), on real PostgreSQL connections in two
threads: each part of the month is charged once, and the included hours are given once."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from membership.billing.models import LedgerEntry
from metering.models import UsageCharge
from metering.services import usage_charges_post
from tests.concurrency import at_once
from tests.factories.access import GateDeviceFactory, UsageSessionFactory
from tests.factories.equipment import IncludedHoursFactory, MachineRateFactory
from tests.factories.membership import MembershipFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LA = ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize("round_", range(3))
def test_two_runs_at_once_charge_each_part_once(round_):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks between real connections")
    laser = MachineRateFactory().machine
    member = MembershipFactory().member
    IncludedHoursFactory(plan=member.membership.plan, machine=laser, hours=1)
    device = GateDeviceFactory(machine=laser)
    for day in (3, 10):
        start = datetime(2026, 10, day, 10, tzinfo=LA)
        UsageSessionFactory(
            device=device,
            member=member,
            grant_reason="allowed_booking",
            started_at=start,
            ended_at=start + timedelta(hours=2),
        )
    month_over = datetime(2026, 11, 2, tzinfo=LA)
    results = at_once(*[lambda: usage_charges_post(now=month_over)] * 2)

    assert sorted(results) == [0, 2]
    assert UsageCharge.objects.count() == 2
    # One hour included, three charged at 50 cents a minute: $30, then $60.
    entries = LedgerEntry.objects.filter(member=member, kind="usage").order_by("occurred_at", "id")
    assert sorted(e.amount_minor for e in entries) == [3000, 6000]
