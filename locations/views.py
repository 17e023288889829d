"""Location pages: the chain's locations, each with its hours, areas and machines; and the
switcher's choice (`chosen_location`) other apps' lists filter by."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from locations import hours, selectors
from locations.models import Location
from locations.zones import activate

SESSION_KEY = "location"


def chosen_location(request: HttpRequest) -> selectors.LocationChoice:
    """The location the member's lists show (`?location=` remembered for the session)."""
    member = getattr(request.user, "member", None)
    choice = selectors.location_choice(
        asked=request.GET.get("location"),
        remembered=request.session.get(SESSION_KEY),
        home=getattr(member, "home_location", None),
    )
    if choice.shown and "location" in request.GET:
        request.session[SESSION_KEY] = choice.current.slug if choice.current else selectors.ALL
    return choice


@login_required
@require_GET
def location_list(request: HttpRequest) -> HttpResponse:
    choice = chosen_location(request)
    return render(request, "locations/location_list.html", {"choice": choice})


@login_required
@require_GET
def location_detail(request: HttpRequest, slug: str) -> HttpResponse:
    location = get_object_or_404(Location, slug=slug)
    activate(location)  # its hours and times on its own clock
    machines = (
        location.machines.exclude(state="retired")
        .select_related("area", "required_certification")
        .order_by("area__name", "name")
    )
    sessions = location.class_sessions.filter(
        start__gte=timezone.now(), cancelled_at__isnull=True
    ).select_related("certification", "area")[:8]
    return render(
        request,
        "locations/location_detail.html",
        {
            "location": location,
            "week": hours.location_week(location),
            "areas": location.areas.all(),
            "machines": machines,
            "sessions": sessions,
            "choice": chosen_location(request),
            "now_here": timezone.localtime(),
        },
    )
