"""The one base of every domain error: a refusal whose message is shown to the person as is.

Each app's own error (MembershipError, TrainingError, EquipmentError, BookingRejected,
AccessError) subclasses DomainError directly, so a view that calls any service catches
DomainError, not another app's base.
"""

from __future__ import annotations

from django.utils.translation import gettext


class DomainError(Exception):
    """A request the rules refuse; `message` is written for the person and shown unchanged."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DuplicateSubmission(DomainError):
    """A one-time form token came back: the first submit was handled, this one changes nothing."""

    def __init__(self) -> None:
        super().__init__(
            gettext("This form was already submitted; nothing was changed the second time.")
        )
