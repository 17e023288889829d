"""Setup in the product: certifications, plans and prices, waiver versions, and links to each
machine's booking rules, with the history of every change (`core.models.SetupChange`)."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from bookings import series as series_services
from console import selectors
from console.forms import CertificationForm, PlanForm, RoleForm, SeriesForm, WaiverForm
from core.errors import DomainError
from locations import zones
from locations.models import Location
from membership import selectors as membership_selectors
from membership import services as membership_services
from membership.models import Plan
from staffing.selectors import staff_scope
from staffing.shortcuts import head_office_only, staff_object_or_404
from training import scheduling
from training import services as training_services
from training.models import Certification, ClassSeries

training_staff = permission_required("training.manage_training", raise_exception=True)
member_staff = permission_required("membership.manage_members", raise_exception=True)
# Certifications, plans, the waiver and roles are the chain's: the head office's to change.


def _setup_page(request, form, save, *, success, context: dict):
    """Run a valid posted form through `save` (a service call); on success flash `success(it)`
    and go back to Setup, else show the form again with the service's refusal."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, success(saved))
            return redirect("console:setup")
    return render(
        request,
        "console/setup_form.html",
        {"form": form, **context},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def setup_home(request):
    user = request.user
    if not (
        user.has_perm("training.manage_training") or user.has_perm("membership.manage_members")
    ):
        raise PermissionDenied
    return render(
        request,
        "console/setup.html",
        {
            "setup": selectors.setup_overview(
                series=staff_scope(user).filter(ClassSeries.objects.all(), "location")
            ),
            "head_office": staff_scope(user).covers_every_location(),
        },
    )


@login_required
@training_staff
@head_office_only("set up a certification")
def certification_edit(request, pk: int | None = None):
    certification = get_object_or_404(Certification, pk=pk) if pk else Certification()
    form = CertificationForm(request.POST or None, instance=copy.copy(certification))
    return _setup_page(
        request,
        form,
        lambda data: training_services.certification_save(
            certification=form.instance,
            prerequisites=data["prerequisites"],
            instructors=data["instructors"],
            actor=request.user,
            token=data["form_token"],
        ),
        success=lambda saved: f"{saved.name} saved.",
        context={
            "title": f"Certification: {certification.name}" if pk else "New certification",
            "history": selectors.setup_history("certification", pk) if pk else [],
        },
    )


@login_required
@member_staff
@head_office_only("change a plan")
def plan_edit(request, pk: int | None = None):
    plan = get_object_or_404(Plan, pk=pk) if pk else Plan()
    form = PlanForm(request.POST or None, instance=copy.copy(plan))
    return _setup_page(
        request,
        form,
        lambda data: membership_services.plan_save(
            plan=form.save(), actor=request.user, token=data["form_token"]
        ),
        success=lambda saved: f"{saved.name} saved: {saved.price_display} a month.",
        context={
            "title": f"Plan: {plan.name}" if pk else "New plan",
            "note": "A new price applies from each membership's next period.",
            "history": selectors.setup_history("plan", pk) if pk else [],
        },
    )


@login_required
@member_staff
@head_office_only("publish a waiver")
def waiver_publish(request):
    current = membership_selectors.waiver_current()
    initial = {"title": current.title, "text": current.text} if current else {}
    form = WaiverForm(request.POST or None, initial=initial)

    def published(waiver) -> str:
        waiting = membership_selectors.members_yet_to_sign_current_waiver().count()
        return (
            f"Version {waiver.version} published: {waiting} member(s) must sign it before "
            "their next machine use."
        )

    now_current = (
        f"Now current: version {current.version}, published {current.published_at:%d %b %Y}. "
        if current
        else "No waiver yet. "
    )
    return _setup_page(
        request,
        form,
        lambda data: membership_services.waiver_publish(
            title=data["title"], text=data["text"], actor=request.user, token=data["form_token"]
        ),
        success=published,
        context={
            "title": "Publish a new waiver version",
            "note": now_current + "Publishing makes the new text current at once: every member "
            "must sign it before their next machine use (sessions running now run to their end).",
            "submit": "Publish",
            "history": selectors.setup_history("waiver"),
        },
    )


@login_required
@member_staff
@head_office_only("change staff roles")
def role_edit(request):
    form = RoleForm(request.POST or None)
    return _setup_page(
        request,
        form,
        lambda data: (
            data["email"],
            data["role"],
            membership_services.role_set(
                user=data["email"],
                role=data["role"],
                held=data["held"],
                actor=request.user,
                token=data["form_token"],
            ),
        ),
        success=lambda done: (
            f"{done[0].email}: {'changed' if done[2] else 'already so'} ({done[1]})."
        ),
        context={
            "title": "Staff roles",
            "note": "Instructors teach and sign off the certifications they are instructor of; "
            "staff run the desk. Staff may make instructors; only an administrator makes staff.",
            "people": selectors.people_with_roles(),
            "history": selectors.setup_history("role"),
        },
    )


@login_required
@training_staff
def series_edit(request, pk: int | None = None):
    """A recurring class: new at one of the viewer's locations, or changed from a day on."""
    series = None
    if pk:
        series = staff_object_or_404(
            request,
            ClassSeries.objects.select_related("event__rule", "certification", "location"),
            what="change a class series",
            pk=pk,
        )
    locations = staff_scope(request.user).filter(Location.objects.open(), "pk")
    initial = {}
    if series is not None:
        with zones.at(series):
            event = series.event
            last = event.end_recurring_period
            initial = SeriesForm.initial_for(
                series,
                weekdays=scheduling.series_weekdays(series),
                frequency=scheduling.series_frequency(series),
                start=timezone.localtime(event.start),
                last=timezone.localdate(last) if last else None,
                today=timezone.localdate(),
            )
    form = SeriesForm(request.POST or None, initial=initial, locations=locations, series=series)

    def schedule(data):
        when = {
            "frequency": data["frequency"],
            "weekdays": data["weekdays"],
            "first_date": data["first_date"],
            "at": data["at"],
            "minutes": data["minutes"],
            "until": data["until"],
            "capacity": data["capacity"],
            "place": data["place"],
            "area": data["area"],
            "fee_minor": data["fee_minor"],
            "instructor": data["instructor"],
        }
        if series is None:
            return series_services.class_series_create(
                certification=data["certification"],
                location=data["location"],
                count=data["count"],
                machines=list(data["machines"]),
                actor=request.user,
                token=data["form_token"],
                **when,
            )
        return series_services.class_series_change(
            series=series,
            count=data["count"],
            machines=list(data["machines"]),
            actor=request.user,
            token=data["form_token"],
            **when,
        )

    return _setup_page(
        request,
        form,
        schedule,
        success=_series_saved,
        context={
            "title": f"Class series: {series.certification}" if series else "New class series",
            "note": "Times are on the location's clock. Each class holds the machines chosen: "
            "bookings in the way are cancelled and their members emailed.",
            "history": selectors.setup_history("class series", pk) if pk else [],
        },
    )


def _series_saved(saved) -> str:
    if isinstance(saved, ClassSeries):
        count = saved.event.class_sessions.count()
        return f"{saved.certification} series scheduled: {count} class(es) in the next 12 weeks."
    kept = len(saved.kept)
    return (
        f"{saved.series.certification} series changed: {len(saved.created)} new class(es), "
        f"{saved.removed + saved.cancelled} replaced"
        + (f", {kept} kept as booked (their members are emailed)." if kept else ".")
    )
