"""Read-only questions about the chain's locations and their areas."""

from __future__ import annotations

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
