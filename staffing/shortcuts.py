"""For views: the object a staff URL names, refused unless the viewer holds the role where it is."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from staffing.models import Role
from staffing.services import require_at_location

M = TypeVar("M", bound=Model)


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
