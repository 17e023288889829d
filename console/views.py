"""Staff console pages: Today (live through htmx polling its partial)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import selectors
from equipment.models import Machine, MachineState
from staffing.selectors import staff_scope

# Everyone at the desk holds this (the Staff role); instructors and members do not.
staff_required = permission_required("membership.manage_members", raise_exception=True)


@login_required
@staff_required
@require_GET
def today(request):
    """The day at the desk; htmx asks for the partial every few seconds."""
    context = {
        # A location's staff see their locations' machines (issue 12's scopes).
        "today": selectors.today(
            machines=staff_scope(request.user).filter(
                Machine.objects.exclude(state=MachineState.RETIRED), "location"
            )
        ),
        "poll_seconds": getattr(settings, "TODAY_POLL_SECONDS", 10),
    }
    if request.htmx:
        return render(request, "console/_today.html", context)
    return render(request, "console/today.html", context)
