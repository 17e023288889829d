"""Domain errors of the equipment app; views turn them into form errors or 400 responses."""

from core.errors import DomainError


class EquipmentError(DomainError):
    """A request the equipment rules refuse; the message is shown to the person as is."""
