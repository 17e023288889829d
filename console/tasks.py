"""The console's periodic job: the reports' hourly rollup."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from console.services import HOUR, hour_floor, utilization_rollup
from core import clock

# Sessions uploaded late (a gate back online) and bookings marked late change recent hours:
# each run recounts this far back.
ROLLUP_LOOKBACK = timedelta(hours=48)


@shared_task
def rollup_utilization() -> int:
    """Recount the last two days' hours up to the current one (running sessions included)."""
    now = clock.now()
    return utilization_rollup(start=now - ROLLUP_LOOKBACK, end=hour_floor(now) + HOUR, now=now)
