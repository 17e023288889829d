"""Domain errors of the bookings app; views turn them into form errors or 400 responses."""

from __future__ import annotations

from bookings.rules import Refusal, Refused
from core.errors import DomainError


class BookingRejected(DomainError):
    """A booking action a rule refused: `reason` names the rule, `message` is for the member."""

    def __init__(self, refused: Refused) -> None:
        super().__init__(refused.message)
        self.refused = refused
        self.reason: Refusal = refused.reason


class FeedTokenInvalid(Exception):
    """A calendar feed URL whose token is unknown or forged.

    Not a DomainError: it has no message for a person, the feed views answer it with a 404.
    """
