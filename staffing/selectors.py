"""Where a person holds a role: the locations whose members, machines, gates, bookings and takings
they may see and change. Every staff page and service asks here (docs/locations.md, "Staff at each
location")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, cast

from django.db.models import Exists, F, Model, OuterRef, Q, QuerySet

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
    # Every location's id, when the scope was read with them (`role_scope`): then
    # `covers_every_location` needs no query.
    all_ids: frozenset[int] | None = field(default=None, compare=False)

    def includes(self, location_id: int | None) -> bool:
        if self.everywhere:
            return True
        if location_id is None:
            location_id = self.default_id
        return location_id in self.location_ids

    def covers_every_location(self) -> bool:
        """Every location there is: the head office, or any staff of a one-location space."""
        if self.everywhere:
            return True
        if self.all_ids is not None:
            return self.all_ids <= self.location_ids
        return not Location.objects.exclude(pk__in=self.location_ids).exists()

    def union(self, other: Scope) -> Scope:
        if self.everywhere or other.everywhere:
            return EVERYWHERE
        return Scope(False, self.location_ids | other.location_ids, self.default_id)

    def filter(self, queryset: QuerySet[M], path: str) -> QuerySet[M]:
        """`queryset` narrowed to rows whose `path` (a lookup to a location, e.g.
        "machine__location") is in scope; an empty `path` counts as the default location."""
        return queryset if self.everywhere else queryset.filter(self.condition(path))

    def condition(self, path: str) -> Q:
        """The rows whose `path` is in scope, as a condition to combine with others."""
        if self.everywhere:
            return Q()
        condition = Q(**{f"{path}__in": self.location_ids})
        if self.default_id in self.location_ids:
            condition |= Q(**{f"{path}__isnull": True})
        return condition


EVERYWHERE = Scope(True, frozenset(), None)
NOWHERE = Scope(False, frozenset(), None)


def role_scope(user: Any, role: Role = Role.STAFF) -> Scope:
    """Where `user` holds `role`. A superuser and a chain-wide role: everywhere. A person with no
    location role at all: the default location only (a single-location space, or staff from
    before the chain grew, work as they always did; a second location needs a grant)."""
    if user is None or not user.is_authenticated:
        return NOWHERE
    cache: dict[Role, Scope] = user.__dict__.setdefault("_role_scopes", {})
    if role not in cache:
        cache[role] = EVERYWHERE if user.is_superuser else _scope_read(user, role)
    return cache[role]


def _scope_read(user: Any, role: Role) -> Scope:
    """`_scope` of what `user` holds, in one query: every location (the default first), each
    with whether `user` holds `role` there, holds it chain-wide, or holds any role at all."""
    roles = LocationRole.objects.filter(user=user)
    rows = list(
        Location.objects.order_by(F("archived_at").asc(nulls_first=True), "pk")
        .annotate(
            here=Exists(roles.filter(role=role, location=OuterRef("pk"))),
            chain_wide=Exists(roles.filter(role=role, location__isnull=True)),
            any_role=Exists(roles),
        )
        .values_list("pk", "here", "chain_wide", "any_role")
    )
    if not rows:
        return _scope([], role, None)
    _, _, chain_wide, any_role = rows[0]
    held: list[tuple[str, int | None]] = [(role, pk) for pk, here, _, _ in rows if here]
    if chain_wide:
        held.append((role, None))
    elif any_role and not held:
        held.append(("", None))  # some other role: not none at all, and not this one anywhere
    scope = _scope(held, role, rows[0][0])
    if scope.everywhere:
        return scope
    return replace(scope, all_ids=frozenset(pk for pk, _, _, _ in rows))


def teaching_scopes(users: Iterable[Any]) -> dict[int, Scope]:
    """Where each of these people may teach, by user id: where they hold the instructor or the
    staff role (staff run the training of their locations), in two queries for any number."""
    users = {user.pk: user for user in users}
    if not users:
        return {}
    held: dict[int, list[tuple[str, int | None]]] = {pk: [] for pk in users}
    for user_id, role, location_id in LocationRole.objects.filter(user_id__in=users).values_list(
        "user_id", "role", "location_id"
    ):
        held[user_id].append((role, location_id))
    default_id = _default_location_id()
    return {
        pk: EVERYWHERE
        if users[pk].is_superuser
        else _scope(roles, Role.INSTRUCTOR, default_id).union(_scope(roles, Role.STAFF, default_id))
        for pk, roles in held.items()
    }


def teaching_scope(user: Any) -> Scope:
    if user is None or not user.is_authenticated:
        return NOWHERE
    return teaching_scopes([user])[user.pk]


def _scope(held: list[tuple[str, int | None]], role: Role, default_id: int | None) -> Scope:
    """The scope of `role` for a person holding these (role, location) pairs."""
    if default_id is None:
        return EVERYWHERE  # no location yet: nothing to scope
    if not held:
        return Scope(False, frozenset({default_id}), default_id)
    locations = {location_id for held_role, location_id in held if held_role == role}
    if None in locations:
        return EVERYWHERE
    return Scope(False, frozenset(cast(set[int], locations)), default_id)


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
    first: int | None = (
        Location.objects.order_by(F("archived_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)
        .first()
    )
    return first
