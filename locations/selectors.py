"""Read-only questions about the chain's locations and their areas."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from locations.models import Area, Location


def locations_open() -> QuerySet[Location]:
    """The locations members see and staff add things to (not archived), by name."""
    return Location.objects.open()


def is_chain() -> bool:
    """True when the space has more than one open location: only then do pages name locations,
    offer a switcher and ask where. A single-location space sees the pages as before."""
    return Location.objects.open().count() > 1


def areas_of(location: Location) -> QuerySet[Area]:
    return Area.objects.filter(location=location)


@dataclass(frozen=True)
class LocationChoice:
    """The locations a member may pick from (their home first: the nearest to them) and the one
    picked (None: all locations). `shown` is False for a single-location space: no switcher."""

    locations: list[Location]
    current: Location | None
    home: Location | None

    @property
    def shown(self) -> bool:
        return len(self.locations) > 1


ALL = "all"


def location_choice(
    *, asked: str | None, remembered: str | None, home: Location | None
) -> LocationChoice:
    """What `?location=` asked for (a slug or "all"), else what the member picked last, else their
    home location, else all locations."""
    locations = list(locations_open())
    if home is not None and home in locations:
        locations.remove(home)
        locations.insert(0, home)
    by_slug = {location.slug: location for location in locations}
    for wanted in (asked, remembered):
        if wanted == ALL:
            return LocationChoice(locations, None, home)
        if wanted in by_slug:
            return LocationChoice(locations, by_slug[wanted], home)
    current = home if home in locations else None
    return LocationChoice(locations, current if len(locations) > 1 else None, home)
