"""What a change of a machine's rules does to the bookings made under the old ones (dry run).

Bookings sit above equipment, yet a changed certification or removed opening hours can make
bookings to come unusable. As `core.gates` lets lower apps reach the gates, this lets equipment's
actions reach the bookings: `machine_save` and the opening-hours actions ask `bookings_of()` what
the change breaks, inside their own atomic block, and refuse with `ChangeNeedsConfirmation` (the
list, and its digest) unless the caller confirmed exactly that list; then they carry it out in
the same transaction. The bookings app installs the one implementation at start-up; if it fails,
the change rolls back with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from equipment.errors import EquipmentError
from equipment.rules import WeeklyHours

if TYPE_CHECKING:
    from equipment.models import Machine
    from membership.models import User
    from training.models import Certification


@dataclass(frozen=True)
class RulesAfter:
    """A machine's rules as a change would leave them. `opening` empty: open at any time."""

    certification: Certification | None
    weekly_hours_per_member: int
    daily_bookings_per_member: int
    buffer_minutes: int
    opening: tuple[WeeklyHours, ...]


@dataclass(frozen=True)
class Affected:
    """A booking to come that the change breaks, and what happens to it."""

    booking_id: int
    member: str
    start: datetime
    end: datetime
    cancelled: bool  # cancelled with an email to the member; else kept as it is
    why: str  # a sentence: the member's cancellation email gives it as the reason


@dataclass(frozen=True)
class Consequences:
    affected: tuple[Affected, ...]
    digest: str  # of the affected set: a confirm form carries it back

    @property
    def cancelled(self) -> list[Affected]:
        return [one for one in self.affected if one.cancelled]

    @property
    def kept(self) -> list[Affected]:
        return [one for one in self.affected if not one.cancelled]


class ChangeNeedsConfirmation(EquipmentError):
    """The change breaks bookings to come and was not confirmed with this list: nothing was
    saved. The page shows `consequences` and asks again with their digest."""

    def __init__(self, consequences: Consequences) -> None:
        super().__init__(
            _(
                "This change affects %(count)s booking(s) to come (%(cancelled)s to cancel): "
                "confirm it to save."
            )
            % {"count": len(consequences.affected), "cancelled": len(consequences.cancelled)}
        )
        self.consequences = consequences


class MachineBookings(Protocol):
    def consequences(self, *, machine: Machine, after: RulesAfter, now: datetime) -> Consequences:
        """What rules `after` would do to `machine`'s bookings to come (reads only)."""

    def carry_out(
        self, *, machine: Machine, affected: Sequence[Affected], actor: User | None, now: datetime
    ) -> None:
        """Cancel the `affected` bookings marked cancelled (emails, gates, the waitlist), in this
        transaction; `machine` is locked and already carries the new rules."""


_installed: MachineBookings | None = None


def install(bookings: MachineBookings) -> None:
    global _installed
    _installed = bookings


def bookings_of() -> MachineBookings:
    if _installed is None:
        raise ImproperlyConfigured("No machine bookings installed: is 'bookings' installed?")
    return _installed
