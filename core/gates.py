"""How a lower app tells the gates about a change, inside its own transaction.

Apps below `access` (membership, training, equipment, bookings) may not import it, yet a lapsed
membership, a revoked certification or a cancelled booking must reach the machines. They call
`gates()` inside the atomic block of their change; the access app installs the one
implementation at start-up, which writes outbox rows in that same transaction. Unlike a signal
there is exactly one receiver, it runs before the commit, and if it fails the change rolls back
with it: the change and its gate messages commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeAlias

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model

# The apps above own these models; `core` may not import them, not even for type hints.
Booking: TypeAlias = Model
Machine: TypeAlias = Model
Badge: TypeAlias = Model
Member: TypeAlias = Model


class GateOutbox(Protocol):
    def member_lost_access(
        self,
        *,
        member: Member,
        reason: str,
        message: str,
        machines: Iterable[Machine] | None = None,
    ) -> None:
        """Stop `member`'s sessions (on `machines`, or anywhere) and drop them from the lists."""

    def badge_disabled(self, *, badge: Badge) -> None:
        """Stop a session started with this badge and drop it from the lists."""

    def booking_cancelled(self, *, booking: Booking) -> None:
        """Stop the booking's machine if its member is on it; the lists follow."""

    def booking_finished(self, *, booking: Booking) -> None:
        """The member ended the booking early ("I'm done"): stop its machine; the lists follow."""

    def booking_extended(self, *, booking: Booking) -> None:
        """Let the member's running session go on to the booking's new end."""

    def machine_left_service(self, *, machine: Machine) -> None:
        """Stop whatever runs on `machine`; the lists follow."""

    def machines_changed(self, *, machines: Iterable[Machine]) -> None:
        """Who may use these machines when changed (bookings, certifications, maintainers)."""

    def every_machine_changed(self) -> None:
        """Who may use any machine changed (a new waiver version everyone must sign)."""


_installed: GateOutbox | None = None


def install(outbox: GateOutbox) -> None:
    global _installed
    _installed = outbox


def gates() -> GateOutbox:
    if _installed is None:
        raise ImproperlyConfigured("No gate outbox installed: is 'access' in INSTALLED_APPS?")
    return _installed
