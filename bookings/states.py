"""The states a booking goes through, apart from the model so the pure rules can name them too
(`bookings.rules` imports no model and touches no database)."""

from __future__ import annotations

from django.db import models


class BookingState(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    CHECKED_IN = "checked_in", "Checked in"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    LATE_CANCELLED = "late_cancelled", "Cancelled late"
    NO_SHOW = "no_show", "No-show"


# States that hold the machine: they take part in the double-booking guard.
ACTIVE_STATES = (BookingState.CONFIRMED, BookingState.CHECKED_IN)


class WaitState(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Offered"
    BOOKED = "booked", "Booked"
    DECLINED = "declined", "Declined"
    LAPSED = "lapsed", "Offer lapsed"
    LEFT = "left", "Left the waitlist"
    OVER = "over", "Time passed"


# A wait in these states holds its member's place; OFFERED also holds the machine for them.
OPEN_WAIT_STATES = (WaitState.WAITING, WaitState.OFFERED)
