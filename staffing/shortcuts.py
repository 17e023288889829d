"""For views: the object a staff URL names, refused unless the viewer holds the role where it is;
and pages of what every location shares, refused unless the viewer is the head office."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from staffing.models import Role
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
