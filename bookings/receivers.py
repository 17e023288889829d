"""Bookings listen for a machine leaving service and tell the members booked on it."""

from __future__ import annotations

from bookings import notifications
from bookings.models import Booking
from bookings.states import ACTIVE_STATES
from core import clock
from equipment.models import Machine


def tell_booked_members(*, machine: Machine, reason: str, **kwargs) -> None:
    """Queue an email (at commit) to each member with a booking on `machine` not yet over.

    The bookings stand: the machine may be back before they start, and the gate refuses until
    it is. Runs inside the change's transaction, so a rolled-back change emails nobody.
    """
    upcoming = Booking.objects.filter(
        machine=machine, state__in=ACTIVE_STATES, end__gt=clock.now()
    ).values_list("pk", flat=True)
    for booking_id in upcoming:
        notifications.send_machine_out_of_service.delay_on_commit(booking_id, reason)
