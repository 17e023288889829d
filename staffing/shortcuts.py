"""For views: the object a staff URL names, refused unless the viewer holds the role where it is;
pages of what every location shares, refused unless the viewer is the head office; and the one
location a staff page of figures is about (its reports, its takings), on that location's clock."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from locations.models import Location
from locations.zones import activate
from staffing.models import Role
from staffing.selectors import Scope, staff_scope
from staffing.services import require_at_location, require_head_office

M = TypeVar("M", bound=Model)
V = TypeVar("V", bound=Callable[..., Any])


def head_office_only(what: str) -> Callable[[V], V]:
    """A view of what every location shares (`require_head_office`): 403 for anyone else,
    kept as a refused action."""

    def decorator(view: V) -> V:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            require_head_office(user=request.user, what=what, path=request.path)
            return view(request, *args, **kwargs)

        return cast(V, wrapped)

    return decorator


def staff_object_or_404(
    request: HttpRequest,
    queryset: type[M] | QuerySet[M],
    *,
    what: str,
    role: Role = Role.STAFF,
    **lookup: Any,
) -> M:
    """`get_object_or_404`, then 403 (kept as a refused action) outside the viewer's locations."""
    obj = get_object_or_404(queryset, **lookup)
    require_at_location(user=request.user, obj=obj, what=what, role=role, path=request.path)
    return obj


@dataclass(frozen=True)
class Place:
    """The locations the viewer may see figures of, the one shown (None: a space with no
    location set up yet) and the scope of the rows counted: that location only."""

    locations: list[Location]
    current: Location | None
    scope: Scope

    @property
    def param(self) -> str:
        """The location as a query string parameter for links ("" with only one to choose)."""
        return f"location={self.current.slug}" if self.current and len(self.locations) > 1 else ""


def staff_place(request: HttpRequest) -> Place:
    """The location `?location=` names among those where the viewer is staff, else their
    default location, else the first by name; its time zone is activated, so the page's days,
    weeks and months are that location's (23 or 25 hours on a clock change), not the server's."""
    scope = staff_scope(request.user)
    locations = list(scope.filter(Location.objects.open(), "pk").order_by("name"))
    asked = request.GET.get("location")
    current = next((loc for loc in locations if loc.slug == asked), None) or next(
        (loc for loc in locations if loc.pk == scope.default_id),
        locations[0] if locations else None,
    )
    if current is None:
        return Place(locations, None, scope)
    activate(current)
    return Place(locations, current, Scope(False, frozenset({current.pk}), scope.default_id))
