"""Where a person holds a role: the locations whose members, machines, gates, bookings and takings
they may see and change. Every staff page and service asks here (docs/locations.md, "Staff at each
location")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from locations.models import Location
from staffing.models import LocationRole, Role

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Scope:
    """Every location, or these location ids. `default_id` is the location of anything that
    names none (a member without a home location)."""

    everywhere: bool
    location_ids: frozenset[int]
    default_id: int | None

    def includes(self, location_id: int | None) -> bool:
        if self.everywhere:
            return True
        if location_id is None:
            location_id = self.default_id
        return location_id in self.location_ids

    def covers_every_location(self) -> bool:
        """Every location there is: the head office, or any staff of a one-location space."""
        return self.everywhere or not Location.objects.exclude(pk__in=self.location_ids).exists()

    def filter(self, queryset: QuerySet[M], path: str) -> QuerySet[M]:
        """`queryset` narrowed to rows whose `path` (a lookup to a location, e.g.
        "machine__location") is in scope; an empty `path` counts as the default location."""
        if self.everywhere:
            return queryset
        condition = Q(**{f"{path}__in": self.location_ids})
        if self.default_id in self.location_ids:
            condition |= Q(**{f"{path}__isnull": True})
        return queryset.filter(condition)


EVERYWHERE = Scope(True, frozenset(), None)
NOWHERE = Scope(False, frozenset(), None)


def role_scope(user: Any, role: Role = Role.STAFF) -> Scope:
    """Where `user` holds `role`. A superuser and a chain-wide role: everywhere. A person with no
    location role of this kind: the default location only (a single-location space, or staff
    from before the chain grew, work as they always did; a second location needs a grant)."""
    if user is None or not user.is_authenticated:
        return NOWHERE
    cache: dict[Role, Scope] = user.__dict__.setdefault("_role_scopes", {})
    if role in cache:
        return cache[role]
    default_id = _default_location_id()
    if user.is_superuser:
        scope = EVERYWHERE
    else:
        held = set(
            LocationRole.objects.filter(user=user, role=role).values_list("location_id", flat=True)
        )
        if None in held or default_id is None:
            scope = EVERYWHERE
        else:
            scope = Scope(False, frozenset(held or {default_id}), default_id)
    cache[role] = scope
    return scope


def staff_scope(user: Any) -> Scope:
    return role_scope(user, Role.STAFF)


def location_id_of(obj: Any) -> int | None:
    """The location a staff action on `obj` happens at: a location itself, a machine's, a
    gate's, booking's or access event's machine's, a member's home (or what belongs to a
    member: a membership, a badge, a payment)."""
    found: int | None
    if isinstance(obj, Location):
        return obj.pk
    if hasattr(obj, "location_id"):
        found = obj.location_id
        return found
    for relation in ("machine", "session"):
        related = getattr(obj, relation, None)
        if related is not None and hasattr(related, "location_id"):
            found = related.location_id
            return found
    if hasattr(obj, "home_location_id"):
        found = obj.home_location_id
        return found
    member = getattr(obj, "member", None)
    if member is not None:
        found = member.home_location_id
        return found
    raise TypeError(f"no location known for {type(obj).__name__}")


def location_roles(user: Any) -> QuerySet[LocationRole]:
    return LocationRole.objects.filter(user=user).select_related("location")


def _default_location_id() -> int | None:
    """The first open location (else the first), as `locations.models.default_location`, without
    creating one: with no location at all there is nothing to scope."""
    location = (
        Location.objects.open().order_by("pk").values_list("pk", flat=True).first()
        or Location.objects.order_by("pk").values_list("pk", flat=True).first()
    )
    return location
