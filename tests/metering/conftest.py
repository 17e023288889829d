"""Fixtures of the metering tests: a metered laser, its member, and their gate sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from access.models import UsageSession
from tests.factories.access import GateDeviceFactory, UsageSessionFactory
from tests.factories.equipment import IncludedHoursFactory, MachineRateFactory
from tests.membership.conftest import deliver, stripe_api  # noqa: F401 (fixtures)


@pytest.fixture
def laser(db):
    """A laser at 50 cents a minute in 15-minute steps, at least $5 a session."""
    return MachineRateFactory(machine__name="Laser cutter", machine__slug="laser").machine


@pytest.fixture
def ten_hours(laser, member):
    """The member's plan includes ten hours of the laser a month."""
    return IncludedHoursFactory(plan=member.membership.plan, machine=laser, hours=10)


@pytest.fixture
def gate_session(laser, member):
    """A session on the laser's gate: `gate_session(start, hours, reason=...)`."""
    device = GateDeviceFactory(machine=laser)

    def make(
        start: datetime,
        hours: float | None,
        *,
        reason: str = "allowed_booking",
        on=None,
        who=None,
    ) -> UsageSession:
        return UsageSessionFactory(
            device=device if on is None else GateDeviceFactory(machine=on),
            member=member if who is None else who,
            grant_reason=reason,
            started_at=start,
            grant_end=start + timedelta(hours=hours or 4),
            ended_at=None if hours is None else start + timedelta(hours=hours),
        )

    return make
