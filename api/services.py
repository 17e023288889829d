"""Credential actions: issue (the secret is returned once), authenticate, revoke; API write records.

Secrets are stored as an HMAC-SHA256 under a server-side key (API_TOKEN_HASH_KEY, by default
derived from SECRET_KEY): a leaked database alone does not let anyone use the API, and a fast hash
is fine because the secret is 32 random bytes, not a password. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from api.errors import CredentialRejected, NotAuthenticated, RateLimited
from api.models import ApiCredential, ApiWrite, CredentialKind, Scope
from core import clock
from core.submissions import submission_claim
from membership.models import User

MEMBER_SCOPES = frozenset({Scope.READ, Scope.BOOKINGS})
# How often last_used_at is written at most: a busy key does not write a row per request.
LAST_USED_RESOLUTION_SECONDS = 60


@dataclass(frozen=True)
class Issued:
    """A credential just made, with its secret: show `secret` once, it is not stored."""

    credential: ApiCredential
    secret: str


def _hash_key() -> bytes:
    configured = getattr(settings, "API_TOKEN_HASH_KEY", "")
    if configured:
        return str(configured).encode()
    return hmac.new(
        settings.SECRET_KEY.encode(), b"toolgate.api.credential-digest", hashlib.sha256
    ).digest()


def credential_digest(secret: str) -> str:
    return hmac.new(_hash_key(), secret.encode(), hashlib.sha256).hexdigest()


def _clean_scopes(*, kind: str, scopes: list[str], user: User) -> list[str]:
    chosen = sorted(set(scopes))
    if not chosen:
        raise CredentialRejected(_("Choose at least one scope."))
    unknown = set(chosen) - set(Scope.values)
    if unknown:
        raise CredentialRejected(
            _("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(sorted(unknown))}
        )
    staff = user.has_perm("api.manage_api_keys")
    if kind == CredentialKind.TOKEN and not staff and not set(chosen) <= MEMBER_SCOPES:
        raise CredentialRejected(_("A personal token may only read or manage your bookings."))
    return chosen


def credential_issue(
    *,
    kind: str,
    user: User,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    rate_limit_per_minute: int | None = None,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Issued:
    """Make a token (for `user` themself) or a key (by staff, for an integration)."""
    now = now or clock.now()
    if kind == CredentialKind.KEY and not user.has_perm("api.manage_api_keys"):
        raise CredentialRejected(_("Only staff who manage API keys can create them."))
    name = name.strip()
    if not name:
        raise CredentialRejected(_("Give it a name, so you know later what uses it."))
    if expires_at is not None and expires_at <= now:
        raise CredentialRejected(_("The expiry must be in the future."))
    limit = rate_limit_per_minute or int(getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 60))
    if not 1 <= limit <= 10_000:
        raise CredentialRejected(_("The rate limit is 1 to 10,000 requests a minute."))
    prefix = secrets.token_hex(6)
    secret = f"tg_{kind}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        submission_claim(token)
        credential = ApiCredential.objects.create(
            kind=kind,
            name=name[:100],
            prefix=prefix,
            digest=credential_digest(secret),
            user=user,
            scopes=_clean_scopes(kind=kind, scopes=scopes, user=user),
            rate_limit_per_minute=limit,
            created_at=now,
            expires_at=expires_at,
        )
    return Issued(credential, secret)


def credential_revoke(
    *,
    credential: ApiCredential,
    actor: User,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> ApiCredential:
    """Revoke at once: the next request with it is refused. Its owner, or staff for any key."""
    now = now or clock.now()
    with transaction.atomic():
        submission_claim(token)
        locked = ApiCredential.objects.select_for_update().get(pk=credential.pk)
        if locked.user_id != actor.pk and not actor.has_perm("api.manage_api_keys"):
            raise CredentialRejected(_("You can only revoke your own tokens."))
        if locked.revoked_at is None:
            locked.revoked_at = now
            locked.revoked_by = actor
            locked.save(update_fields=["revoked_at", "revoked_by"])
    return locked


def credential_authenticate(secret: str, *, now: datetime | None = None) -> ApiCredential:
    """The usable credential this bearer secret belongs to, or NotAuthenticated."""
    now = now or clock.now()
    parts = secret.split("_", 3)
    if len(parts) != 4 or parts[0] != "tg" or parts[1] not in CredentialKind.values:
        raise NotAuthenticated(_("The token is malformed."), code="token_malformed")
    credential = (
        ApiCredential.objects.select_related("user").filter(prefix=parts[2], kind=parts[1]).first()
    )
    # The digest is compared even for an unknown prefix, so timing tells nothing either way.
    expected = credential.digest if credential is not None else credential_digest("")
    if not hmac.compare_digest(expected, credential_digest(secret)) or credential is None:
        raise NotAuthenticated(_("The token is not valid."), code="token_invalid")
    if credential.revoked_at is not None:
        raise NotAuthenticated(_("The token was revoked."), code="token_revoked")
    if credential.expires_at is not None and credential.expires_at <= now:
        raise NotAuthenticated(_("The token has expired."), code="token_expired")
    if not credential.user.is_active:
        raise NotAuthenticated(_("The token's user is deactivated."), code="user_inactive")
    _touch(credential, now)
    return credential


def _touch(credential: ApiCredential, now: datetime) -> None:
    last = credential.last_used_at
    if last is None or (now - last).total_seconds() >= LAST_USED_RESOLUTION_SECONDS:
        ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now


def rate_limit_hit(credential: ApiCredential, *, now: datetime | None = None) -> int:
    """Count one request in the credential's current minute; RateLimited over its limit.

    A fixed one-minute window in Django's cache (locmem in development, Redis in production via
    CACHE_BACKEND): shared by every worker when the cache is. Returns the requests left.
    """
    now = now or clock.now()
    epoch = int(now.timestamp())
    window = epoch - epoch % 60
    key = f"api:rate:{credential.pk}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        used = 1
    if used > credential.rate_limit_per_minute:
        raise RateLimited(
            _("Over %(limit)s requests a minute; try again shortly.")
            % {"limit": credential.rate_limit_per_minute},
            retry_after=max(1, window + 60 - epoch),
        )
    return credential.rate_limit_per_minute - used


def api_write_record(
    *,
    credential: ApiCredential,
    what: str,
    obj_type: str,
    obj_id: object,
    method: str,
    path: str,
    now: datetime | None = None,
) -> ApiWrite:
    """Record a write made through the API; call inside the write's transaction."""
    return ApiWrite.objects.create(
        credential=credential,
        actor=credential.user,
        reason=what,
        object_type=obj_type,
        object_id=str(obj_id),
        method=method,
        path=path[:500],
        created_at=now or clock.now(),
    )
