"""The periodic command: no-shows, completions and reminders, each exactly once."""

from __future__ import annotations

from io import StringIO

from django.core import mail
from django.core.management import call_command

from bookings import services
from bookings.models import BookingState
from tests.bookings.conftest import at


def tick() -> str:
    out = StringIO()
    call_command("bookings_tick", stdout=out)
    return out.getvalue()


def test_bookings_tick_is_idempotent(maker, laser, frozen):
    """Running twice changes nothing the second time and sends no second reminder."""
    booking = services.booking_create(member=maker, machine=laser, start=at(1, 10), end=at(1, 11))
    frozen.move_to(at(1, 9, 30))
    assert "reminders queued: 1" in tick()
    assert "reminders queued: 0" in tick()
    assert len([m for m in mail.outbox if "Reminder" in m.subject]) == 1
    frozen.move_to(at(1, 10, 20))
    assert "no-shows released: 1" in tick()
    assert "no-shows released: 0" in tick()
    booking.refresh_from_db()
    assert booking.state == BookingState.NO_SHOW
