"""Factories for the locations app: sites of the chain and their areas."""

from __future__ import annotations

import factory

from locations.models import Area, Location


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Location {n}")
    slug = factory.Sequence(lambda n: f"location-{n}")
    time_zone = "America/Los_Angeles"


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ("location", "slug")

    location = factory.SubFactory(LocationFactory)
    name = factory.Sequence(lambda n: f"Area {n}")
    slug = factory.Sequence(lambda n: f"area-{n}")


def default_location_in(zone) -> Location:
    """The default location (made on first use, as for a single space), set to `zone`: where the
    machines and classes the other factories make happen, so their times are in `zone`."""
    from locations.models import default_location

    location = default_location()
    location.time_zone = getattr(zone, "key", zone)
    location.save(update_fields=["time_zone"])
    return location
