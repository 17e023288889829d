"""Bookings' periodic job for the task runner (beat runs it every minute; settings.py)."""

from __future__ import annotations

from celery import shared_task

from bookings import series, services, waitlist


@shared_task
def bookings_tick() -> dict[str, int]:
    """Release no-shows, complete finished bookings, queue reminders, pass lapsed waitlist offers
    on and drop waits whose time passed; safe to rerun. `manage.py bookings_tick` runs the same."""
    released = services.bookings_release()
    waits = waitlist.waitlist_tick()
    return {
        **released,
        "reminders": services.bookings_send_reminders(),
        "offers_lapsed": waits["lapsed"],
        "waits_over": waits["over"],
    }


@shared_task
def extend_class_series() -> int:
    """Create recurring classes' sessions up to the horizon, each holding its series' machines;
    returns how many were created. `manage.py extend_class_series` runs the same."""
    return series.class_series_extend_all()
