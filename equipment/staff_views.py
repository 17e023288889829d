"""Staff pages that set machines up: add a machine, edit its details and rules, opening hours."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.views import form_action
from equipment import selectors, services
from equipment.forms import MachineAddForm, MachineForm, OpeningHoursForm, OpeningRemoveForm
from equipment.models import Machine
from locations.zones import activate
from staffing.shortcuts import staff_object_or_404

manage_required = permission_required("equipment.manage_machines", raise_exception=True)


def _save(request, form) -> Machine | None:
    """Store a valid machine form through the service; None (and a form error) if refused."""
    if not form.is_valid():
        return None
    try:
        return services.machine_save(
            machine=form.instance,
            maintainers=form.cleaned_data["maintainers"],
            actor=request.user,
            token=form.cleaned_data["form_token"],
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return None


@login_required
@manage_required
def machine_add(request):
    form = MachineAddForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        machine = _save(request, form)
        if machine is not None:
            messages.success(request, f"{machine.name} added. Now set its opening hours.")
            return redirect(f"{reverse('equipment:machine_edit', args=[machine.slug])}#hours")
    return render(
        request,
        "equipment/machine_form.html",
        {"form": form, "machine": None},
        status=400 if form.errors else 200,
    )


@login_required
@manage_required
def machine_edit(request, slug: str):
    machine = staff_object_or_404(
        request,
        Machine.objects.select_related("required_certification"),
        what="edit a machine",
        slug=slug,
    )
    activate(machine)  # its times in its location's zone
    # The form writes its values onto its own copy, so a refused edit leaves the page's title alone.
    form = MachineForm(request.POST or None, request.FILES or None, instance=copy.copy(machine))
    if request.method == "POST":
        saved = _save(request, form)
        if saved is not None:
            messages.success(request, f"{saved.name} saved.")
            return redirect(saved)
    return render(
        request,
        "equipment/machine_form.html",
        {"form": form, "machine": machine, **_hours_context(machine)},
        status=400 if form.errors else 200,
    )


def _hours_context(machine: Machine, **extra) -> dict:
    return {
        "machine": machine,
        "week": selectors.opening_week(machine),
        "hours_form": OpeningHoursForm(),
        "remove_form": OpeningRemoveForm(),
        **extra,
    }


def _hours_action(request, slug: str, form_class, action, *, invalid: str, done: str):
    """Run `action(machine, cleaned_data)` on the posted form: htmx gets the opening-hours panel
    back with the outcome in it, a plain post goes back to the edit page (outcome flashed)."""
    machine = staff_object_or_404(request, Machine, what="opening hours", slug=slug)
    activate(machine)  # its times in its location's zone
    form = form_class(request.POST)
    outcome = form_action(
        request,
        form,
        lambda data: action(machine, data),
        success=done,
        invalid=invalid,
        flash=not request.htmx,
    )
    if not request.htmx:
        return redirect(f"{reverse('equipment:machine_edit', args=[machine.slug])}#hours")
    said = {"notice": outcome.message} if outcome else {"error": outcome.message}
    # Only a refused add form is shown again with what was typed; the remove buttons are rebuilt.
    if not outcome and form_class is OpeningHoursForm:
        said["hours_form"] = form
    return render(request, "equipment/_opening_hours.html", _hours_context(machine, **said))


@login_required
@manage_required
@require_POST
def opening_hours_add(request, slug: str):
    return _hours_action(
        request,
        slug,
        OpeningHoursForm,
        lambda machine, data: services.opening_hours_add(
            machine=machine,
            weekdays=data["weekdays"],
            opens=data["opens"],
            closes=data["closes"],
            actor=request.user,
            token=data["form_token"],
        ),
        invalid="Choose the days and both times.",
        done="Opening hours added.",
    )


@login_required
@manage_required
@require_POST
def opening_hours_remove(request, slug: str):
    return _hours_action(
        request,
        slug,
        OpeningRemoveForm,
        lambda machine, data: services.opening_hours_remove(
            machine=machine,
            opening_id=data["opening_id"],
            weekday=data["weekday"],
            token=data["form_token"],
        ),
        invalid="Choose the hours to remove.",
        done="Opening hours removed.",
    )
