"""The states a booking goes through, apart from the model so the pure rules can name them too
(`bookings.rules` imports no model and touches no database)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import pgettext_lazy


class BookingState(models.TextChoices):
    # In their own context: other apps' catalogues have a "Cancelled" or "Waiting" of their own
    # (a membership is 해지됨, a booking 취소됨), and Django gives the first app's translation.
    CONFIRMED = "confirmed", pgettext_lazy("booking state", "Confirmed")
    CHECKED_IN = "checked_in", pgettext_lazy("booking state", "Checked in")
    COMPLETED = "completed", pgettext_lazy("booking state", "Completed")
    CANCELLED = "cancelled", pgettext_lazy("booking state", "Cancelled")
    LATE_CANCELLED = "late_cancelled", pgettext_lazy("booking state", "Cancelled late")
    NO_SHOW = "no_show", pgettext_lazy("booking state", "No-show")


# States that hold the machine: they take part in the double-booking guard.
ACTIVE_STATES = (BookingState.CONFIRMED, BookingState.CHECKED_IN)


class WaitState(models.TextChoices):
    WAITING = "waiting", pgettext_lazy("waitlist state", "Waiting")
    OFFERED = "offered", pgettext_lazy("waitlist state", "Offered")
    BOOKED = "booked", pgettext_lazy("waitlist state", "Booked")
    DECLINED = "declined", pgettext_lazy("waitlist state", "Declined")
    LAPSED = "lapsed", pgettext_lazy("waitlist state", "Offer lapsed")
    LEFT = "left", pgettext_lazy("waitlist state", "Left the waitlist")
    OVER = "over", pgettext_lazy("waitlist state", "Time passed")


# A wait in these states holds its member's place; OFFERED also holds the machine for them.
OPEN_WAIT_STATES = (WaitState.WAITING, WaitState.OFFERED)
