"""The console's periodic job: the reports' rollups."""

from __future__ import annotations

from celery import shared_task

from console.services import reports_rollup


@shared_task
def rollup_utilization() -> int:
    """Recount the recent hours and days, and the days of bookings changed late (the name kept:
    the task runner's schedule and queued runs know it)."""
    return reports_rollup()
