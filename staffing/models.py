"""Who holds a role where: staff, instructors and maintainers at one or more locations of the chain,
or chain-wide (the head office)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STAFF = "staff", _("Staff")
    INSTRUCTOR = "instructor", _("Instructor")
    MAINTAINER = "maintainer", _("Maintainer")


class LocationRole(models.Model):
    """`user` holds `role` at `location`, or at every location when `location` is empty.

    The role's permissions (what a staff member may do) still come from the role's group; this
    says where. A person with the group and no row at all acts at the default location only,
    where everything was before the chain had a second location.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="location_roles"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    location = models.ForeignKey(
        "locations.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff_roles",
        help_text="Empty: chain-wide (the head office).",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user_id", "role", "location_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "location"],
                condition=Q(location__isnull=False),
                name="one_role_per_location",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(location__isnull=True),
                name="one_chain_wide_role",
            ),
        ]

    def __str__(self) -> str:
        where = self.location or "every location"
        return f"{self.user} - {self.get_role_display()} at {where}"


class RefusedAction(models.Model):
    """A staff member reached for something at a location outside their roles: kept for review."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices)
    location = models.ForeignKey(
        "locations.Location", null=True, on_delete=models.PROTECT, related_name="+"
    )
    what = models.CharField(max_length=200)
    path = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at"]
