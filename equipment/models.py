"""Machines, their booking rules, calendars (opening hours and maintenance), service log, reports."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import CalendarEntry, StateChange
from core.money import CurrencyError, currency_code, minor_step, money_format
from locations.models import area_field, location_field


class MachineState(models.TextChoices):
    IN_SERVICE = "in_service", _("In service")
    OUT_OF_SERVICE = "out_of_service", _("Out of service")
    RETIRED = "retired", _("Retired")


class Machine(models.Model):
    """A bookable, badge-gated machine and the rules members book it by."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    location = location_field(
        related_name="machines",
        help_text=_(
            "The location it stands at: its hours, bookings and gate times are in its zone."
        ),
    )
    area = area_field(
        related_name="machines", help_text=_("The room of its location it stands in.")
    )
    # A plain file field: Pillow (ImageField) is not a dependency; the extension check is enough
    # for a photo only staff upload.
    photo = models.FileField(
        upload_to="machines/",
        blank=True,
        validators=[FileExtensionValidator(["jpg", "jpeg", "png", "webp"])],
    )
    description = models.TextField(blank=True)
    required_certification = models.ForeignKey(
        "training.Certification",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="machines",
        help_text=_("Members need this certification to book and to switch the machine on."),
    )
    required_checkout = models.ForeignKey(
        "training.LocalCheckout",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="machines",
        help_text=_(
            "A local sign-off of this machine's location members need as well, on top of "
            "the chain-wide certification."
        ),
    )
    state = models.CharField(
        max_length=20, choices=MachineState.choices, default=MachineState.IN_SERVICE
    )
    state_reason = models.CharField(max_length=500, blank=True)
    maintainers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="maintained_machines"
    )
    calendar = models.OneToOneField(
        "schedule.Calendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="machine",
        help_text=_(
            "The django-scheduler calendar with this machine's opening hours and maintenance."
        ),
    )
    class_sessions = models.ManyToManyField(
        "training.ClassSession",
        blank=True,
        related_name="machines",
        help_text=_("Class sessions held on this machine; they block bookings."),
    )
    class_series = models.ManyToManyField(
        "training.ClassSeries",
        blank=True,
        related_name="machines",
        help_text=_("Recurring classes held on this machine: each of their sessions holds it."),
    )

    # Booking rules.
    slot_minutes = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    min_minutes = models.PositiveIntegerField(default=30)
    max_minutes = models.PositiveIntegerField(default=240)
    book_ahead_days = models.PositiveIntegerField(
        default=14, help_text=_("How many days ahead bookings open.")
    )
    weekly_hours_per_member = models.PositiveIntegerField(
        default=8, help_text=_("Booked hours per member per week (Monday to Sunday); 0 = no limit.")
    )
    daily_bookings_per_member = models.PositiveIntegerField(
        default=2, help_text=_("Bookings per member per day; 0 = no limit.")
    )
    buffer_minutes = models.PositiveIntegerField(
        default=0, help_text=_("Kept free after each booking (cool-down, cleaning).")
    )

    class Meta:
        ordering = ["name"]
        permissions = [
            ("manage_machines", _("Can edit machines and their rules and see problem reports")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_minutes__lte=F("max_minutes")), name="machine_min_le_max"
            ),
            models.CheckConstraint(condition=Q(slot_minutes__gt=0), name="machine_slot_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("equipment:machine_detail", args=[self.slug])

    @property
    def in_service(self) -> bool:
        return self.state == MachineState.IN_SERVICE


class MachineEvent(CalendarEntry):
    """An event of the machine's django-scheduler calendar and what it means for bookings."""

    class Kind(models.TextChoices):
        OPENING = "opening", _("Opening hours")
        MAINTENANCE = "maintenance", _("Maintenance")

    machine = models.ForeignKey(Machine, on_delete=models.CASCADE, related_name="events")
    event = models.OneToOneField(
        "schedule.Event", on_delete=models.CASCADE, related_name="machine_event"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)

    class Meta:
        indexes = [models.Index(fields=["machine", "kind"])]

    def __str__(self) -> str:
        return f"{self.machine}: {self.get_kind_display()}"


class MachineStateChange(StateChange):
    """Every change of a machine's service state, with who and why. Never deleted."""

    machine = models.ForeignKey(Machine, on_delete=models.PROTECT, related_name="state_changes")
    from_state = models.CharField(max_length=20, choices=MachineState.choices)
    to_state = models.CharField(max_length=20, choices=MachineState.choices)

    def describe(self) -> str:
        return f"{self.machine}: {self.get_from_state_display()} → {self.get_to_state_display()}"


class Severity(models.TextChoices):
    """How bad a reported problem is; a safety report takes the machine out of service at once."""

    MINOR = "minor", _("Minor: it still works")
    BROKEN = "broken", _("Broken: it does not work")
    SAFETY = "safety", _("Unsafe: nobody should use it")


# Worst first, for lists and counts.
SEVERITY_ORDER = [Severity.SAFETY, Severity.BROKEN, Severity.MINOR]


class ProblemReport(models.Model):
    """A member's report that something is wrong with a machine; staff see open reports."""

    machine = models.ForeignKey(Machine, on_delete=models.PROTECT, related_name="problem_reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MINOR)
    description = models.TextField()
    # The change a safety report made (None when the machine was already out of service): the
    # machine comes back when the last open safety report is closed and this is still its latest.
    state_change = models.OneToOneField(
        MachineStateChange,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problem_report",
    )
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Open reports (the nav's count, Today, the list) without reading closed ones.
            models.Index(
                fields=["machine", "severity"],
                condition=Q(resolved_at__isnull=True),
                name="problem_report_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.machine}: {self.description[:40]}"

    @property
    def severity_short(self) -> str:
        """ "Minor", "Broken", "Unsafe": the label's first word, for pills and counts."""
        return str(Severity(self.severity).label).split(":")[0]

    @property
    def is_safety(self) -> bool:
        return self.severity == Severity.SAFETY


def _space_currency() -> str:
    return settings.SPACE_CURRENCY


class MachineRate(models.Model):
    """What a metered machine costs per minute of relay-on time (docs/billing.md, "Machine time").

    A machine without a rate is not metered. Charged time is rounded up to a whole `step_minutes`
    per session (and per local month, when a session crosses into the next), and a session charged
    at all costs at least `minimum_minor`.
    """

    machine = models.OneToOneField(Machine, on_delete=models.CASCADE, related_name="rate")
    per_minute_minor = models.PositiveIntegerField(
        _("price per minute"), help_text=_("In minor units (cents; whole won or yen).")
    )
    currency = models.CharField(
        max_length=3,
        default=_space_currency,
        help_text=_(
            "In Stripe mode, the currency of the members' plans (one invoice, one currency)."
        ),
    )
    step_minutes = models.PositiveIntegerField(
        _("round up to"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text=_("Charged time is rounded up to a whole number of these minutes."),
    )
    minimum_minor = models.PositiveIntegerField(
        _("minimum charge"),
        default=0,
        help_text=_("The least a session costs once it is charged at all (minor units)."),
    )
    charge_instructors = models.BooleanField(
        default=False, help_text=_("Charge sessions the gate switched on as instructor access.")
    )
    charge_maintainers = models.BooleanField(
        default=False,
        help_text=_("Charge sessions the gate switched on as maintainer access (a staff grant)."),
    )
    metered_since = models.DateTimeField(
        default=timezone.now,
        help_text=_("Sessions that started from then on are charged; earlier ones never are."),
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(per_minute_minor__gt=0), name="machine_rate_per_minute_positive"
            ),
            models.CheckConstraint(
                condition=Q(step_minutes__gt=0), name="machine_rate_step_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.machine}: {money_format(self.per_minute_minor, self.currency)}/min"

    def clean(self) -> None:
        try:
            self.currency = currency_code(self.currency)
        except CurrencyError as error:
            raise ValidationError({"currency": str(error)}) from None
        step = minor_step(self.currency)
        for field in ("per_minute_minor", "minimum_minor"):
            if (getattr(self, field) or 0) % step:
                raise ValidationError(
                    {
                        field: _("Stripe takes %(currency)s in multiples of %(step)s.")
                        % {"currency": self.currency.upper(), "step": step}
                    }
                )


class IncludedHours(models.Model):
    """Hours a month of a metered machine a plan includes before its minutes are charged."""

    plan = models.ForeignKey(
        "membership.Plan", on_delete=models.CASCADE, related_name="included_machine_hours"
    )
    machine = models.ForeignKey(Machine, on_delete=models.CASCADE, related_name="included_hours")
    hours = models.PositiveIntegerField(help_text=_("Per member, per calendar month (local time)."))

    class Meta:
        verbose_name_plural = _("included hours")
        constraints = [
            models.UniqueConstraint(fields=["plan", "machine"], name="included_hours_once_per_plan")
        ]

    def __str__(self) -> str:
        return f"{self.plan.name}: {self.hours} h of {self.machine} a month"


from equipment.daypasses.models import DayPass, DayPassProduct, DayPassState  # noqa: E402, F401
