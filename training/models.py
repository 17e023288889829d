"""Certifications members earn in staff-run safety classes, and their grants to members."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Certification(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    validity_months = models.PositiveIntegerField(
        null=True, blank=True, help_text="Leave empty for a certification that never expires."
    )
    prerequisites = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="unlocks"
    )
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="teachable_certifications",
        help_text="Who may teach this certification and sign members off.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ClassSession(models.Model):
    """One meeting of a safety class; a recurring series shares a django-scheduler event."""

    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="sessions"
    )
    instructor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="taught_sessions"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    capacity = models.PositiveIntegerField(default=6)
    place = models.CharField(max_length=200, blank=True)
    series = models.ForeignKey(
        "schedule.Event",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="class_sessions",
        help_text="The recurring class series this session belongs to, if any.",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="class_session_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.certification} on {self.start:%Y-%m-%d %H:%M}"


class MemberCertification(models.Model):
    """A grant of a certification to a member. Expired and revoked grants stay as history."""

    member = models.ForeignKey(
        "membership.Member", on_delete=models.PROTECT, related_name="certifications"
    )
    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="grants"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    session = models.ForeignKey(
        ClassSession, null=True, blank=True, on_delete=models.PROTECT, related_name="grants"
    )
    note = models.CharField(max_length=500, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["member", "certification", "-granted_at"])]

    def __str__(self) -> str:
        return f"{self.member}: {self.certification}"
