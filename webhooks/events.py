"""The event types an endpoint can subscribe to, each with what it means in a sentence."""

from __future__ import annotations

from django.db import models

from core import events


class EventType(models.TextChoices):
    BOOKING_CREATED = events.BOOKING_CREATED, "Booking created"
    BOOKING_CANCELLED = events.BOOKING_CANCELLED, "Booking cancelled"
    BOOKING_CHECKED_IN = events.BOOKING_CHECKED_IN, "Booking checked in"
    BOOKING_NO_SHOW = events.BOOKING_NO_SHOW, "Booking released as a no-show"
    ACCESS_GRANTED = events.ACCESS_GRANTED, "Access granted at a machine"
    ACCESS_REFUSED = events.ACCESS_REFUSED, "Access refused at a machine"
    USAGE_STARTED = events.USAGE_STARTED, "Usage session started (machine switched on)"
    USAGE_ENDED = events.USAGE_ENDED, "Usage session ended (machine free)"
    MEMBERSHIP_CHANGED = events.MEMBERSHIP_CHANGED, "Membership changed"
    CERTIFICATION_GRANTED = events.CERTIFICATION_GRANTED, "Certification granted"
    CERTIFICATION_EXPIRED = events.CERTIFICATION_EXPIRED, "Certification expired"
    CERTIFICATION_REVOKED = events.CERTIFICATION_REVOKED, "Certification revoked"
    MACHINE_OUT_OF_SERVICE = events.MACHINE_OUT_OF_SERVICE, "Machine out of service"
    GATE_OFFLINE = events.GATE_OFFLINE, "Gate went offline"


# Sent by the "Send test event" button to that endpoint only, whatever it subscribes to.
TEST_EVENT = "webhook.test"
ACCESS_DECIDED = events.ACCESS_DECIDED
