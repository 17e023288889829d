"""Bookings' periodic job for the task runner (beat runs it every minute; settings.py)."""

from __future__ import annotations

from celery import shared_task

from bookings import services


@shared_task
def bookings_tick() -> dict[str, int]:
    """Release no-shows, complete finished bookings and queue reminders; safe to rerun.
    `manage.py bookings_tick` runs the same."""
    released = services.bookings_release()
    return {**released, "reminders": services.bookings_send_reminders()}
