"""The API's own refusals: each becomes a JSON error with a status, a code and a sentence."""

from __future__ import annotations

from core.errors import DomainError


class ApiError(DomainError):
    """A refusal of the API layer itself (not of a domain rule): `status` and `code` go out."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class NotAuthenticated(ApiError):
    status = 401
    code = "not_authenticated"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class TooLarge(ApiError):
    status = 413
    code = "body_too_large"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CredentialRejected(DomainError):
    """Making or revoking a credential that the rules refuse (shown on the token pages)."""
