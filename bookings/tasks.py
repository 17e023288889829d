"""Bookings' periodic job for the task runner (beat runs it every minute; settings.py)."""

from __future__ import annotations

from celery import shared_task

from bookings import series, services


@shared_task
def bookings_tick() -> dict[str, int]:
    """Release no-shows, complete finished bookings and queue reminders; safe to rerun.
    `manage.py bookings_tick` runs the same."""
    released = services.bookings_release()
    return {**released, "reminders": services.bookings_send_reminders()}


@shared_task
def extend_class_series() -> int:
    """Create recurring classes' sessions up to the horizon, each holding its series' machines;
    returns how many were created. `manage.py extend_class_series` runs the same."""
    return series.class_series_extend_all()
