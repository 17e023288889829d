"""Domain errors of the access app; views turn them into form errors or 400 responses."""

from core.errors import DomainError


class AccessError(DomainError):
    """A gate action staff asked for and the rules refuse; the message is shown as is."""
