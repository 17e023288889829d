"""How any app announces a domain event (a booking made, a gate gone offline) to the world outside.

Apps may not import the top-floor `webhooks` app, yet their changes are what webhooks report. A
service calls `events.emit(kind, subject)` inside the atomic block of its change; the webhooks app
installs the one sink at start-up, which writes a delivery row per subscribed endpoint in that same
transaction (an outbox: the task runner delivers them after the commit, and a delivery survives a
process that dies right after it). Without the webhooks app installed, events go nowhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from django.db.models import Model

# The kinds apps emit (webhooks.events.EventType names each for staff). An access decision is
# emitted as ACCESS_DECIDED and becomes access.granted or access.refused.
BOOKING_CREATED = "booking.created"
BOOKING_CANCELLED = "booking.cancelled"
BOOKING_CHECKED_IN = "booking.checked_in"
BOOKING_NO_SHOW = "booking.no_show"
ACCESS_DECIDED = "access.decided"
ACCESS_GRANTED = "access.granted"
ACCESS_REFUSED = "access.refused"
USAGE_STARTED = "usage.started"
USAGE_ENDED = "usage.ended"
MEMBERSHIP_CHANGED = "membership.changed"
CERTIFICATION_GRANTED = "certification.granted"
CERTIFICATION_EXPIRED = "certification.expired"
CERTIFICATION_REVOKED = "certification.revoked"
MACHINE_OUT_OF_SERVICE = "machine.out_of_service"
GATE_OFFLINE = "gate.offline"


class EventSink(Protocol):
    def record(self, kind: str, subjects: Iterable[Model]) -> None:
        """Record one event of `kind` about each of `subjects`, in the caller's transaction."""


_installed: EventSink | None = None


def install(sink: EventSink | None) -> None:
    global _installed
    _installed = sink


def emit(kind: str, subject: Model) -> None:
    """Announce that `kind` happened to `subject` (e.g. "booking.created", a Booking)."""
    emit_each(kind, [subject])


def emit_each(kind: str, subjects: Iterable[Model]) -> None:
    """`emit` for many subjects at once (a batch of scans, the no-shows of a tick)."""
    if _installed is not None:
        _installed.record(kind, subjects)
