"""Domain errors of the training app; views show their message to the person as is."""

from core.errors import DomainError


class TrainingError(DomainError):
    """A training action the rules refuse (enroll, cancel, sign off, revoke, schedule)."""


class EnrollmentRejected(TrainingError):
    pass


class SignOffRejected(TrainingError):
    pass


class NotAllowed(TrainingError):
    """The person acting lacks the role or relation the action needs."""
