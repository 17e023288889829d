"""Demo locations: Menlo Park (America/Los_Angeles) and Raleigh (America/New_York), three hours
apart, each with its areas and opening hours. Menlo Park comes first: it is the default location
the rest of the demo (and a single-location space) puts things in."""

from __future__ import annotations

from datetime import date, time

from locations import hours
from locations.models import Location, LocationEvent
from locations.services import area_ensure

LOCATIONS = [
    dict(
        slug="menlo-park",
        name="Menlo Park",
        time_zone="America/Los_Angeles",
        address="120 Independence Drive\nMenlo Park, CA 94025",
        contact_email="menlo@toolgate.test",
        areas=["Laser room", "Wood shop", "Electronics lab"],
    ),
    dict(
        slug="raleigh",
        name="Raleigh",
        time_zone="America/New_York",
        address="4200 Atlantic Avenue\nRaleigh, NC 27604",
        contact_email="raleigh@toolgate.test",
        areas=["Metal shop", "Wood shop", "Laser room"],
    ),
]


def seed() -> list[str]:
    lines = []
    for spec in LOCATIONS:
        spec = dict(spec)
        areas = spec.pop("areas")
        location, _ = Location.objects.get_or_create(slug=spec.pop("slug"), defaults=spec)
        for name in areas:
            area_ensure(location=location, name=name)
        if not location.events.filter(kind=LocationEvent.Kind.OPENING).exists():
            monday = date(2026, 1, 5)
            hours.location_hours_add(
                location=location,
                weekdays=[0, 1, 2, 3, 4],
                opens=time(10),
                closes=time(22),
                starting=monday,
            )
            hours.location_hours_add(
                location=location, weekdays=[5, 6], opens=time(10), closes=time(18), starting=monday
            )
        lines.append(f"  {location.name:<12} {location.time_zone}")
    return ["Demo locations:", *lines]
