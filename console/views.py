"""Staff console pages: Today (live through htmx polling its partial)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import selectors
from equipment.models import Machine, MachineState
from staffing.shortcuts import staff_place
from training.models import ClassSession

# Everyone at the desk holds this (the Staff role); instructors and members do not.
staff_required = permission_required("membership.manage_members", raise_exception=True)


@login_required
@staff_required
@require_GET
def today(request):
    """The day at the desk of one location (`?location=`, among the viewer's; as the reports
    choose it), on its clock: its machines and classes, and its local day, not the server's
    (the zone is activated by `staff_place`). htmx asks for the partial every few seconds."""
    place = staff_place(request)
    context = {
        "place": place,
        "today": selectors.today(
            machines=place.scope.filter(
                Machine.objects.exclude(state=MachineState.RETIRED), "location"
            ),
            sessions=place.scope.filter(ClassSession.objects.all(), "location"),
        ),
        "poll_seconds": getattr(settings, "TODAY_POLL_SECONDS", 10),
    }
    if request.htmx:
        return render(request, "console/_today.html", context)
    return render(request, "console/today.html", context)
