"""Domain errors of the access app; views turn them into form errors or 400 responses."""


class AccessError(Exception):
    """A gate action staff asked for and the rules refuse; the message is shown as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
