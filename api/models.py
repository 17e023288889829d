"""API credentials (members' personal tokens, integrations' keys) and the record of API writes."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import StateChange


class Scope(models.TextChoices):
    """What a credential may do, on top of what its user's permissions allow (docs/api.md)."""

    READ = "read", _("Read only")
    BOOKINGS = "bookings", _("Bookings and class enrolments")
    ACCESS_LOG = "access-log", _("Access log, usage sessions and gates")
    ADMIN = "admin", _("Everything its user may do")


class CredentialKind(models.TextChoices):
    TOKEN = "token", "Personal access token"
    KEY = "key", "Integration API key"


class ApiCredential(models.Model):
    """A bearer secret for the API. Only a keyed hash of the secret is stored; the secret itself is
    shown once, when it is made. It acts as `user`, narrowed to `scopes`.

    A member's personal token acts as the member. An integration's key acts as the staff user who
    made it, so a key never outlives its maker's permissions.
    """

    kind = models.CharField(max_length=10, choices=CredentialKind.choices)
    name = models.CharField(max_length=100)
    # The public part of the secret (`tg_key_<prefix>_...`): finds the row without the secret.
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_credentials"
    )
    scopes = models.JSONField(default=list)
    rate_limit_per_minute = models.PositiveIntegerField(default=60)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("manage_api_keys", "Can create and revoke integration API keys")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate_limit_per_minute__gt=0), name="api_rate_limit_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name} ({self.prefix})"

    @property
    def label(self) -> str:
        return f"tg_{self.kind}_{self.prefix}"

    def is_usable(self, *, at: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)


class ApiWrite(StateChange):
    """One change made through the API, with the credential that made it. Never edited.

    `actor` is the credential's user; `reason` says what was done ("booking created").
    """

    credential = models.ForeignKey(ApiCredential, on_delete=models.PROTECT, related_name="writes")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=64)

    def describe(self) -> str:
        return f"{self.reason} ({self.object_type} {self.object_id}) with {self.credential.label}"
