"""The chain's locations (each with its own address, time zone and opening hours) and their areas.

A location with history is archived, never deleted: everything that points at one (machines, class
sessions, plans, members' home locations) holds it with PROTECT.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from core.models import CalendarEntry


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    """An IANA time zone name the system's zone database knows ("America/New_York")."""
    if value not in _zone_names():
        raise ValidationError(
            "%(value)s is not a time zone name. Use an IANA name such as America/New_York.",
            params={"value": value},
            code="invalid_time_zone",
        )


class LocationQuerySet(models.QuerySet["Location"]):
    def open(self) -> LocationQuerySet:
        """Locations not archived: the ones members see and staff add things to."""
        return self.filter(archived_at__isnull=True)


class Location(models.Model):
    """One site of the chain: where machines stand, classes meet and gates run."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    address = models.TextField(blank=True)
    time_zone = models.CharField(
        max_length=64,
        validators=[validate_time_zone],
        help_text="IANA name, e.g. America/New_York. Every time at this location is shown in it.",
    )
    contact_email = models.EmailField(blank=True)
    # A plain file field, as Machine.photo: Pillow is not a dependency.
    photo = models.FileField(
        upload_to="locations/",
        blank=True,
        validators=[FileExtensionValidator(["jpg", "jpeg", "png", "webp"])],
    )
    calendar = models.OneToOneField(
        "schedule.Calendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="location",
        help_text="The django-scheduler calendar with this location's opening hours.",
    )
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="Archived locations keep their history; no new use."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = LocationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("locations:location_detail", args=[self.slug])

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class LocationEvent(CalendarEntry):
    """An event of a location's django-scheduler calendar: its opening hours, or a closure."""

    class Kind(models.TextChoices):
        OPENING = "opening", "Opening hours"
        CLOSURE = "closure", "Closed"

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="events")
    event = models.OneToOneField(
        "schedule.Event", on_delete=models.CASCADE, related_name="location_event"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)

    class Meta:
        indexes = [models.Index(fields=["location", "kind"])]

    def __str__(self) -> str:
        return f"{self.location}: {self.get_kind_display()}"


class Area(models.Model):
    """A room or part of a location: the wood shop, the metal shop, the laser room."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="areas")
    name = models.CharField(max_length=100)
    slug = models.SlugField()
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["location__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="area_name_per_location"),
            models.UniqueConstraint(fields=["location", "slug"], name="area_slug_per_location"),
            models.CheckConstraint(condition=~Q(name=""), name="area_has_name"),
        ]

    def __str__(self) -> str:
        return self.name


def default_location() -> Location:
    """The location things belong to when none is named: the first open one (or, when every one
    is archived, the first).

    A space that has never set up a location gets one on first use, named after the space and in
    its time zone (SPACE_NAME, TIME_ZONE): a single-location space never has to think about it.
    """
    location = (
        Location.objects.open().order_by("pk").first() or Location.objects.order_by("pk").first()
    )
    if location is None:
        name = settings.SPACE_NAME
        location, _ = Location.objects.get_or_create(
            slug=slugify(name)[:50] or "main",
            defaults={"name": name, "time_zone": settings.TIME_ZONE},
        )
    return location


def default_location_id() -> int:
    """`default_location`'s key: the default of every location foreign key."""
    return default_location().pk


def location_field(*, related_name: str, help_text: str) -> models.ForeignKey[Location, Location]:
    """The foreign key to where a thing is (a machine, a class): PROTECT, so a location with history
    is archived, never deleted; the default location when none is named."""
    return models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        related_name=related_name,
        default=default_location_id,
        help_text=help_text,
    )


def area_field(
    *, related_name: str, help_text: str = ""
) -> models.ForeignKey[Area | None, Area | None]:
    """The optional foreign key to the room of that location a thing is in."""
    return models.ForeignKey(
        Area,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name=related_name,
        help_text=help_text,
    )
