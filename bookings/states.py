"""The states a booking goes through, apart from the model so the pure rules can name them too
(`bookings.rules` imports no model and touches no database)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BookingState(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    LATE_CANCELLED = "late_cancelled", _("Cancelled late")
    NO_SHOW = "no_show", _("No-show")


# States that hold the machine: they take part in the double-booking guard.
ACTIVE_STATES = (BookingState.CONFIRMED, BookingState.CHECKED_IN)


class WaitState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    OFFERED = "offered", _("Offered")
    BOOKED = "booked", _("Booked")
    DECLINED = "declined", _("Declined")
    LAPSED = "lapsed", _("Offer lapsed")
    LEFT = "left", _("Left the waitlist")
    OVER = "over", _("Time passed")


# A wait in these states holds its member's place; OFFERED also holds the machine for them.
OPEN_WAIT_STATES = (WaitState.WAITING, WaitState.OFFERED)
