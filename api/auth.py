"""Bearer authentication for the API: the credential, its scopes, its user's permissions, its rate.

Each operation names what it needs (`Need`): any credential reads its own user's data; staff data
needs a scope and a permission. A valid credential that lacks them gets a 403, never a 401.
"""

from __future__ import annotations

import enum
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from api import services
from api.errors import Forbidden, NotAuthenticated
from api.models import ApiCredential, Scope


class Need(enum.Enum):
    """What an operation does, and the scopes that allow it."""

    OWN = frozenset(Scope.values)  # reading the caller's own data: any scope
    READ = frozenset({Scope.READ, Scope.BOOKINGS, Scope.ADMIN})
    WRITE = frozenset({Scope.BOOKINGS, Scope.ADMIN})
    ACCESS_LOG = frozenset({Scope.ACCESS_LOG, Scope.ADMIN})
    ADMIN = frozenset({Scope.ADMIN})  # staff changes to members' data: badges


class CredentialAuth(HttpBearer):
    """`Authorization: Bearer tg_token_...` or `tg_key_...`, checked for `need` and `permission`."""

    openapi_scheme = "bearer"

    def __init__(self, need: Need, permission: str | None = None) -> None:
        super().__init__()
        self.need = need
        self.permission = permission

    def __call__(self, request: HttpRequest) -> Any:
        if not request.headers.get("Authorization"):
            raise NotAuthenticated(
                _("Send a token: Authorization: Bearer <token>."), code="not_authenticated"
            )
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> ApiCredential:
        credential = services.credential_authenticate(token)
        request.api_rate_remaining = services.rate_limit_hit(credential)  # type: ignore[attr-defined]
        request.api_rate_limit = credential.rate_limit_per_minute  # type: ignore[attr-defined]
        if not set(credential.scopes) & self.need.value:
            wanted = " or ".join(sorted(self.need.value))
            raise Forbidden(
                _("This credential's scopes do not allow it (needs %(scopes)s).")
                % {"scopes": wanted},
                code="scope_missing",
            )
        if self.permission and not credential.user.has_perm(self.permission):
            raise Forbidden(
                _("Your account does not have the permission for this."), code="permission_missing"
            )
        return credential


own = CredentialAuth(Need.OWN)
write = CredentialAuth(Need.WRITE)


def staff(need: Need, permission: str) -> CredentialAuth:
    return CredentialAuth(need, permission)
