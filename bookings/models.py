"""Bookings of machines, never deleted, and the private tokens of members' calendar feeds."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings.constraints import PostgresExclusionConstraint, TsTzRange
from bookings.states import ACTIVE_STATES, OPEN_WAIT_STATES, BookingState, WaitState


class Booking(models.Model):
    """A member's reservation of a machine from `start` to `end`.

    `blocked_until` is `end` plus the machine's buffer when the booking was made: the machine is
    held over [start, blocked_until), so two bookings always keep the buffer between them.
    """

    machine = models.ForeignKey(
        "equipment.Machine", on_delete=models.PROTECT, related_name="bookings"
    )
    member = models.ForeignKey(
        "membership.Member", on_delete=models.PROTECT, related_name="bookings"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    blocked_until = models.DateTimeField()
    state = models.CharField(
        max_length=20, choices=BookingState.choices, default=BookingState.CONFIRMED
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.CharField(max_length=500, blank=True)
    released_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the booking was completed or released as no-show.")
    )
    extended_count = models.PositiveIntegerField(default=0)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start", "id"]
        permissions = [
            ("manage_bookings", _("Can see who booked, and book, cancel and check in for members")),
        ]
        indexes = [
            models.Index(fields=["machine", "start"]),
            models.Index(fields=["member", "start"]),
            models.Index(fields=["state", "start"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="booking_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(blocked_until__gte=F("end")), name="booking_block_covers_booking"
            ),
            PostgresExclusionConstraint(
                name="booking_no_overlap",
                expressions=[
                    ("machine", RangeOperators.EQUAL),
                    (TsTzRange("start", "blocked_until"), RangeOperators.OVERLAPS),
                ],
                condition=Q(state__in=list(ACTIVE_STATES)),
                violation_error_message=_("This machine is already booked at that time."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.machine} {self.start:%Y-%m-%d %H:%M}-{self.end:%H:%M} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


def _new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeed(models.Model):
    """The secret in a member's private iCal feed URL; resetting it kills the old URL."""

    member = models.OneToOneField(
        "membership.Member", on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=_new_feed_token)
    created_at = models.DateTimeField(default=timezone.now)

    def reset(self) -> None:
        self.token = _new_feed_token()
        self.created_at = timezone.now()
        self.save(update_fields=["token", "created_at"])


class Wait(models.Model):
    """A member waiting for a span of a machine they chose, taken in part or whole (bookings.
    waitlist). When all of it is free, the first member waiting for it is offered it: the machine
    is held for them until `offer_until`."""

    machine = models.ForeignKey("equipment.Machine", on_delete=models.PROTECT, related_name="waits")
    member = models.ForeignKey("membership.Member", on_delete=models.PROTECT, related_name="waits")
    start = models.DateTimeField()
    end = models.DateTimeField()
    joined_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=20, choices=WaitState.choices, default=WaitState.WAITING)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_until = models.DateTimeField(null=True, blank=True)
    # Why the member was passed over when the span last freed (lost certification, lapsed...).
    skipped_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=500, blank=True)
    # Its reason code (`bookings.rules.Refusal`): the member is emailed once per reason.
    skip_code = models.CharField(max_length=40, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    booking = models.OneToOneField(
        Booking, null=True, blank=True, on_delete=models.PROTECT, related_name="wait"
    )

    class Meta:
        ordering = ["joined_at", "id"]
        indexes = [models.Index(fields=["machine", "state", "start"])]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="wait_ends_after_start"),
            models.UniqueConstraint(
                fields=["member", "machine", "start", "end"],
                condition=Q(state__in=list(OPEN_WAIT_STATES)),
                name="wait_once_per_member_and_span",
                violation_error_message=_("You are already on the waitlist for that time."),
            ),
            models.CheckConstraint(
                condition=~Q(state=WaitState.OFFERED) | Q(offer_until__isnull=False),
                name="wait_offer_has_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} waits for {self.machine} {self.start:%Y-%m-%d %H:%M} ({self.state})"
