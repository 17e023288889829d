"""Actions on the chain's locations and their areas."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from locations.errors import LocationError
from locations.models import Area, Location

logger = logging.getLogger(__name__)


def area_ensure(*, location: Location, name: str) -> Area:
    """The area of `location` called `name` (any case), added when it does not exist yet."""
    name = name.strip()
    if not name:
        raise LocationError(_("An area needs a name."))
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


def _has_history(location: Location) -> bool:
    """Anything points at it: machines, areas, classes, plans, members, local check-outs."""
    return any(
        related.exists()
        for related in (
            location.machines.all(),
            location.areas.all(),
            location.class_sessions.all(),
            location.class_series.all(),
            location.plans.all(),
            location.home_members.all(),
            location.checkouts.all(),
        )
    )


def location_delete(*, location: Location) -> None:
    """Delete a location nothing points at yet (one added by mistake). One with history is
    refused, with what to do instead: archive it."""
    with transaction.atomic():
        locked = Location.objects.select_for_update().get(pk=location.pk)
        if _has_history(locked):
            logger.warning("Refused to delete location %s: it has history", locked.slug)
            raise LocationError(
                f"{locked.name} has machines, classes, plans or members: it cannot be deleted. "
                "Archive it instead; its history stays."
            )
        locked.delete()


def location_archive(*, location: Location, now: datetime | None = None) -> Location:
    """Archive a location: it keeps its history and takes no new machines, classes or members.

    Refused while anything still happens there (a machine not retired, a class to come), and for
    the last open location (everything would have nowhere to go).
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Location.objects.select_for_update().get(pk=location.pk)
        if locked.archived:
            raise LocationError(_("%(name)s is already archived.") % {"name": locked.name})
        if not Location.objects.open().exclude(pk=locked.pk).exists():
            raise LocationError(
                _("%(name)s is the only open location; add another first.") % {"name": locked.name}
            )
        working = locked.machines.exclude(state="retired").count()
        if working:
            raise LocationError(
                f"{locked.name} still has {working} machine(s) not retired: move or retire "
                "them first."
            )
        if locked.class_sessions.filter(start__gt=now, cancelled_at__isnull=True).exists():
            raise LocationError(
                _("%(name)s has classes to come: move or cancel them first.")
                % {"name": locked.name}
            )
        locked.archived_at = now
        locked.save(update_fields=["archived_at"])
    location.archived_at = locked.archived_at
    return locked


def area_move(*, area: Area, location: Location) -> Area:
    """Move an area to another location: only one nothing uses yet (a room belongs to its
    building; a machine moves on its own, with its bookings checked)."""
    with transaction.atomic():
        locked = Area.objects.select_for_update().get(pk=area.pk)
        if locked.location_id == location.pk:
            return locked
        if (
            locked.machines.exists()
            or locked.class_sessions.exists()
            or locked.class_series.exists()
        ):
            logger.warning("Refused to move area %s: it is in use", locked.pk)
            raise LocationError(
                f"{locked.name} has machines or classes at {locked.location}: it cannot move to "
                f"{location}. Add an area there and move the machines one by one."
            )
        if Area.objects.filter(location=location, name__iexact=locked.name).exists():
            raise LocationError(
                _("%(location)s already has an area called %(name)s.")
                % {"location": location, "name": locked.name}
            )
        locked.location = location
        locked.save(update_fields=["location"])
    return locked
