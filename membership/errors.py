"""Domain errors of the membership app; views turn them into form errors or 400 responses."""


class MembershipError(Exception):
    """A request the membership rules refuse; the message is shown to the person as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadgeRejected(MembershipError):
    pass


class DuplicateSubmission(MembershipError):
    def __init__(self) -> None:
        super().__init__("This form was already submitted; nothing was changed the second time.")


class CardTokenInvalid(MembershipError):
    pass
