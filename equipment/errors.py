"""Domain errors of the equipment app; views turn them into form errors or 400 responses."""


class EquipmentError(Exception):
    """A request the equipment rules refuse; the message is shown to the person as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
