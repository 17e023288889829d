"""Certifications members earn in staff-run safety classes, and their grants to members."""

from __future__ import annotations

from typing import Self, TypeVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from locations.models import area_field, location_field

CLASS_LOCATION_HELP = _("Where the class meets; its times are in the location's zone.")


def _space_currency() -> str:
    return settings.SPACE_CURRENCY


class Certification(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    validity_months = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Leave empty for a certification that never expires.")
    )
    valid_until = models.DateField(
        null=True,
        blank=True,
        help_text=_("Every grant ends after this day (a standard's edition, an insurer's year)."),
    )
    lapses_after_days_unused = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "A grant lapses this many days after its holder last switched on a machine "
            "that needs it (or after the grant, if never)."
        ),
    )
    prerequisites = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="unlocks"
    )
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="teachable_certifications",
        help_text=_("Who may teach this certification and sign members off."),
    )
    # The class fee (docs/billing.md, "Class fees"), in the currency's minor unit: 0 is free.
    class_fee_minor = models.PositiveIntegerField(
        _("class fee"), default=0, help_text=_("In minor units (cents; whole won or yen). 0: free.")
    )
    class_fee_currency = models.CharField(max_length=3, default=_space_currency)
    no_show_fee_minor = models.PositiveIntegerField(
        "no-show fee",
        default=0,
        help_text=_("Charged on account to a member marked absent (minor units; 0: none)."),
    )

    class Meta:
        ordering = ["name"]
        permissions = [
            (
                "teach",
                _("Can teach classes and sign off the certifications they are instructor of"),
            ),
            (
                "manage_training",
                _("Can schedule classes, sign off, revoke and see training demand"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ClassSeries(models.Model):
    """What a recurring class is about; its dates live in a django-scheduler event and rule.

    The event sits on the "Classes" calendar; its occurrences are materialised into
    `ClassSession` rows for a horizon so enrollments have something concrete to point at.
    """

    event = models.OneToOneField(
        "schedule.Event", on_delete=models.PROTECT, related_name="class_series"
    )
    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="series"
    )
    instructor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="taught_series"
    )
    capacity = models.PositiveIntegerField(default=6)
    location = location_field(related_name="class_series", help_text=CLASS_LOCATION_HELP)
    area = area_field(related_name="class_series")
    place = models.CharField(max_length=200, blank=True)
    fee_minor = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Each session's fee if not the certification's (minor units; 0: free)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "class series"

    def __str__(self) -> str:
        rule = self.event.rule
        return f"{self.certification} series ({rule.name if rule else 'once'})"


# Generic, so that an annotated queryset of sessions keeps its annotations' types (django-stubs).
_Session = TypeVar("_Session", bound="ClassSession")


class ClassSessionQuerySet(models.QuerySet[_Session]):
    def locked(self) -> Self:
        """Rows locked for the transaction: the sessions only, never the rows joined to them
        (a class's certification stays free for other classes)."""
        return self.select_for_update(of=("self",))


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
    location = location_field(related_name="class_sessions", help_text=CLASS_LOCATION_HELP)
    area = area_field(related_name="class_sessions")
    place = models.CharField(max_length=200, blank=True)
    series = models.ForeignKey(
        "schedule.Event",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="class_sessions",
        help_text=_("The recurring class series this session belongs to, if any."),
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    original_start = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("For a session of a series: the start its rule gave it, before any move."),
    )
    fee_minor = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("This session's fee if not the certification's (minor units; 0: free)."),
    )

    objects = ClassSessionQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="class_session_ends_after_start"
            ),
            models.UniqueConstraint(
                fields=["series", "original_start"], name="one_session_per_series_occurrence"
            ),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.start)
        return f"{self.certification} on {local:%Y-%m-%d %H:%M}"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class EnrollmentStatus(models.TextChoices):
    ENROLLED = "enrolled", _("Enrolled")
    WAITLISTED = "waitlisted", _("Waitlisted")
    CANCELLED = "cancelled", pgettext_lazy("enrollment status", "Cancelled")


class FeeState(models.TextChoices):
    FREE = "free", _("Free")
    DUE = "due", _("Awaiting payment")
    PAID = "paid", pgettext_lazy("class fee state", "Paid")
    REFUNDED = "refunded", _("Refunded")
    KEPT = "kept", _("Not refunded")


class Outcome(models.TextChoices):
    """What the instructor recorded on the roster for one attendee."""

    PENDING = "pending", _("Not marked yet")
    ABSENT = "absent", _("Absent")
    FAILED = "failed", _("Attended, not passed")
    PASSED = "passed", _("Attended and passed")


class Enrollment(models.Model):
    """A member's seat (or place on the waitlist) in one class session. Never deleted."""

    session = models.ForeignKey(ClassSession, on_delete=models.PROTECT, related_name="enrollments")
    member = models.ForeignKey(
        "membership.Member", on_delete=models.PROTECT, related_name="enrollments"
    )
    status = models.CharField(max_length=20, choices=EnrollmentStatus.choices)
    created_at = models.DateTimeField(default=timezone.now)
    promoted_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When a freed seat moved this member off the waitlist.")
    )
    promotion_notified_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.PENDING)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    marked_at = models.DateTimeField(null=True, blank=True)
    # The class fee as it stood when the member enrolled (training/fees.py).
    fee_minor = models.PositiveIntegerField(default=0)
    fee_currency = models.CharField(max_length=3, blank=True)
    fee_state = models.CharField(max_length=20, choices=FeeState.choices, default=FeeState.FREE)
    fee_due_by = models.DateTimeField(
        null=True, blank=True, help_text=_("The seat is released if the fee is not paid by then.")
    )
    checkout_session_id = models.CharField(max_length=255, blank=True)
    # Not a column: set by training.selectors.member_upcoming_enrollments (None: holds a seat).
    position: int | None

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "member"],
                condition=models.Q(status__in=["enrolled", "waitlisted"]),
                name="one_active_enrollment_per_member_and_session",
            )
        ]
        indexes = [models.Index(fields=["session", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.member} in {self.session} ({self.get_status_display()})"


class TrainingRequest(models.Model):
    """A member asking for a class of a certification; staff see the open ones as a queue."""

    member = models.ForeignKey(
        "membership.Member", on_delete=models.PROTECT, related_name="training_requests"
    )
    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="requests"
    )
    created_at = models.DateTimeField(default=timezone.now)
    fulfilled_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the member got a seat in a class or the grant.")
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "certification"],
                condition=models.Q(fulfilled_at__isnull=True),
                name="one_open_training_request",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} asks for {self.certification}"


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
    # The latest `expires_at` may become, from the validity in months or the fixed date: use of
    # a certification that lapses when unused moves `expires_at` on, never past this.
    expires_at_latest = models.DateTimeField(null=True, blank=True)
    session = models.ForeignKey(
        ClassSession, null=True, blank=True, on_delete=models.PROTECT, related_name="grants"
    )
    note = models.CharField(max_length=500, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.CharField(max_length=500, blank=True)
    expiry_reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["member", "certification", "-granted_at"])]

    def __str__(self) -> str:
        return f"{self.member}: {self.certification}"


class LocalCheckout(models.Model):
    """A named local sign-off a machine of one location may require on top of its certification.

    Certifications count at every location of the chain; a check-out counts only where it was
    given ("Menlo Park laser check-out": the local laser's quirks, shown by the local staff).
    """

    location = models.ForeignKey(
        "locations.Location", on_delete=models.PROTECT, related_name="checkouts"
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["location__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="checkout_name_per_location")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.location})"


class MemberCheckout(models.Model):
    """A member's local check-out. Revoked ones stay as history."""

    member = models.ForeignKey(
        "membership.Member", on_delete=models.PROTECT, related_name="checkouts"
    )
    checkout = models.ForeignKey(LocalCheckout, on_delete=models.PROTECT, related_name="grants")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=500, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "checkout"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_checkout_per_member",
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True) | ~models.Q(revoke_reason=""),
                name="revoked_checkout_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.checkout}"


class Guest(models.Model):
    """Someone a member brings to classes: registered with a name and an email, and the waiver
    signed (the version they signed is kept: a new waiver must be signed again)."""

    host = models.ForeignKey("membership.Member", on_delete=models.PROTECT, related_name="guests")
    name = models.CharField(max_length=150)
    email = models.EmailField()
    waiver = models.ForeignKey("membership.Waiver", on_delete=models.PROTECT, related_name="+")
    signed_name = models.CharField(max_length=150)
    signed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["host", "email"], name="guest_once_per_host_and_email")
        ]

    def __str__(self) -> str:
        return f"{self.name} (guest of {self.host})"


class GuestSeat(models.Model):
    """A seat a guest takes on the host's enrollment, within the class's seats. Never deleted:
    given up, it is marked cancelled; it goes with the host's seat."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="guest_seats")
    guest = models.ForeignKey(Guest, on_delete=models.PROTECT, related_name="seats")
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Attendance the instructor marks on the roster (None: not marked yet). A guest is not a
    # member: attending certifies nobody, and no no-show fee is charged for them.
    attended = models.BooleanField(null=True, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    marked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "guest"],
                condition=models.Q(cancelled_at__isnull=True),
                name="guest_seat_once_per_enrollment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.guest.name} on {self.enrollment}"
