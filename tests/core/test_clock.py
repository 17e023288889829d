"""The services' default clock follows Django's, so time-machine freezes it in tests."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from core import clock


def test_the_clock_is_aware_and_frozen_by_time_machine():
    frozen = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    with time_machine.travel(frozen, tick=False):
        assert clock.now() == frozen
    assert clock.now().tzinfo is not None
