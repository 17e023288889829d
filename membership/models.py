"""Members, their plan and membership state, badges and waiver signatures."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import StateChange


class UserManager(BaseUserManager):
    """Users log in by email; there is no username."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    username = None
    email = models.EmailField("email address", unique=True)
    # What their emails are written in, and the site on a device with no language chosen yet
    # (core/languages.py); empty: the space's LANGUAGE_CODE. Set at sign-up, by the switcher
    # when signed in, and on the profile.
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class Member(models.Model):
    """The makerspace profile of a person with an account."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    phone = models.CharField(max_length=40, blank=True)
    emergency_contact = models.CharField(max_length=200, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)
    credit_limit_minor = models.PositiveIntegerField(
        "credit limit",
        default=0,
        help_text="How far below zero staff let this member's prepaid credits go (minor units).",
    )
    home_location = models.ForeignKey(
        "locations.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="home_members",
        help_text='Where the member mostly goes: listed first, "nearest" to them.',
    )

    class Meta:
        ordering = ["user__last_name", "user__first_name", "user__email"]
        permissions = [
            ("manage_members", "Can find members and manage badges and membership state"),
            ("record_payment", "Can record a manual membership payment"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.email


class Plan(models.Model):
    name = models.CharField(max_length=100, unique=True)
    monthly_price_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    stripe_price_id = models.CharField(max_length=100, blank=True)
    is_default = models.BooleanField(default=False)
    all_locations = models.BooleanField(
        default=True, help_text="Opens every location of the chain, now and future ones."
    )
    locations = models.ManyToManyField(
        "locations.Location",
        blank=True,
        related_name="plans",
        help_text="The locations the plan opens when it is not for all locations.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_plan"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.price_display}/month)"

    @property
    def price_display(self) -> str:
        from membership.templatetags.toolgate import money

        return money(self.monthly_price_cents, self.currency)


class MembershipStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    CANCELED = "canceled", _("Cancelled")


class Membership(models.Model):
    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="membership")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT)
    status = models.CharField(
        max_length=20, choices=MembershipStatus.choices, default=MembershipStatus.PENDING
    )
    current_period_end = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # Stripe billing (membership.billing); empty in manual billing mode.
    stripe_customer_id = models.CharField("Stripe customer", max_length=255, blank=True)
    stripe_subscription_id = models.CharField("Stripe subscription", max_length=255, blank=True)
    stripe_subscription_status = models.CharField(max_length=40, blank=True)
    stripe_cancel_at_period_end = models.BooleanField(default=False)
    stripe_synced_at = models.DateTimeField(null=True, blank=True)
    # The paid-through date whose grace period ran out and was recorded (and the gate told) once.
    lapse_recorded_for = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_customer_id"],
                condition=~Q(stripe_customer_id=""),
                name="unique_stripe_customer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.get_status_display()}"


class ChangeCause(models.TextChoices):
    STAFF = "staff", "Staff"
    MANUAL_PAYMENT = "manual_payment", "Manual payment"
    STRIPE = "stripe", "Stripe"
    SYSTEM = "system", "System"


class MembershipChange(StateChange):
    """Every change of a membership's state, with who or what caused it. Never deleted."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="changes")
    from_status = models.CharField(max_length=20, choices=MembershipStatus.choices)
    to_status = models.CharField(max_length=20, choices=MembershipStatus.choices)
    period_end = models.DateTimeField(null=True, blank=True)
    cause = models.CharField(max_length=20, choices=ChangeCause.choices)

    def describe(self) -> str:
        return (
            f"{self.membership.member}: {self.get_from_status_display()} → "
            f"{self.get_to_status_display()} ({self.get_cause_display().lower()})"
        )


class Payment(models.Model):
    class Method(models.TextChoices):
        MANUAL = "manual", _("Manual (recorded by staff)")
        STRIPE = "stripe", _("Stripe")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="payments")
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    method = models.CharField(max_length=20, choices=Method.choices)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stripe_invoice_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_invoice_id"],
                condition=~Q(stripe_invoice_id=""),
                name="one_payment_per_stripe_invoice",
            )
        ]


class StripeEvent(models.Model):
    """Each Stripe webhook event we accepted, stored once by its id: a redelivery changes nothing."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied"
        UNCHANGED = "unchanged", "No change"
        IGNORED = "ignored", "Ignored"

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    stripe_created_at = models.DateTimeField()
    livemode = models.BooleanField(default=False)
    membership = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stripe_events",
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    note = models.CharField(max_length=500, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class Badge(models.Model):
    """An RFID card. Disabled badges stay as history; only enabled UIDs must be unique."""

    uid = models.CharField("UID", max_length=20, db_index=True)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="badges")
    enabled = models.BooleanField(default=True)
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    disabled_reason = models.CharField(max_length=200, blank=True)
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces"
    )

    class Meta:
        ordering = ["-enabled", "-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["uid"], condition=Q(enabled=True), name="unique_enabled_badge_uid"
            ),
            models.CheckConstraint(
                condition=Q(enabled=True) | ~Q(disabled_reason=""),
                name="disabled_badge_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.uid


class Waiver(models.Model):
    """A version of the safety waiver text. The newest published version is the current one."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    text = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class WaiverSignature(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="waiver_signatures")
    waiver = models.ForeignKey(Waiver, on_delete=models.PROTECT, related_name="signatures")
    signed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "waiver"], name="one_signature_per_version")
        ]


# The ledger lives with the rest of billing; importing it here makes it a membership model.
from membership.billing.catalogue import CreditPack, Material, MaterialSale  # noqa: E402, F401
from membership.billing.models import (  # noqa: E402, F401
    Discount,
    LedgerEntry,
    LedgerImmutable,
    StripeRefund,
)
