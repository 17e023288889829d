"""Domain errors of the membership app; views turn them into form errors or 400 responses."""

from core.errors import DomainError


class MembershipError(DomainError):
    """A request the membership rules refuse; the message is shown to the person as is."""


class BadgeRejected(MembershipError):
    pass


class CardTokenInvalid(MembershipError):
    pass
