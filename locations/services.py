"""Actions on the chain's locations and their areas."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from locations.errors import LocationError
from locations.models import Area, Location


def area_ensure(*, location: Location, name: str) -> Area:
    """The area of `location` called `name` (any case), added when it does not exist yet."""
    name = name.strip()
    if not name:
        raise LocationError("An area needs a name.")
    existing = Area.objects.filter(location=location, name__iexact=name).first()
    if existing is not None:
        return existing
    base = slugify(name)[:45] or "area"
    taken = set(Area.objects.filter(location=location).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    try:
        with transaction.atomic():
            return Area.objects.create(location=location, name=name, slug=slug)
    except IntegrityError:
        # Added meanwhile by someone else: theirs is the same area.
        return Area.objects.get(location=location, name__iexact=name)
