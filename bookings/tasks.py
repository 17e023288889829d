"""Bookings' periodic job for the task runner (beat runs it every minute; settings.py)."""

from __future__ import annotations

from celery import shared_task

from bookings import services, waitlist


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
