"""Staff pages that set machines up: add a machine, edit its details and rules, opening hours.

A change that breaks bookings to come is not saved at first: the page lists them and what will
happen to each (`equipment.consequences`), and a confirm button sends the change again with the
list's digest; if the bookings changed meanwhile, the new list is shown instead.
"""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.views import form_action
from equipment import selectors, services
from equipment.consequences import ChangeNeedsConfirmation, Consequences
from equipment.forms import MachineAddForm, MachineForm, OpeningHoursForm, OpeningRemoveForm
from equipment.models import Machine
from equipment.rules import WEEKDAY_NAMES, closing_label
from locations.zones import activate
from staffing.shortcuts import staff_object_or_404

manage_required = permission_required("equipment.manage_machines", raise_exception=True)


CONFIRMED = gettext_lazy(
    "The bookings listed were dealt with as shown; members of cancelled ones are emailed."
)


def _confirm(request) -> str | None:
    """The digest of the list staff confirmed (the confirm button's value), if they did."""
    return request.POST.get("confirm") or None


def _save(request, form) -> Machine | Consequences | None:
    """Store a valid machine form through the service; the bookings it breaks if it waits for a
    confirmation; None (and a form error) if refused."""
    if not form.is_valid():
        return None
    try:
        return services.machine_save(
            machine=form.instance,
            maintainers=form.cleaned_data["maintainers"],
            actor=request.user,
            token=form.cleaned_data["form_token"],
            confirm=_confirm(request),
        )
    except ChangeNeedsConfirmation as asked:
        return asked.consequences
    except DomainError as error:
        form.add_error(None, error.message)
        return None


@login_required
@manage_required
def machine_add(request):
    form = MachineAddForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        machine = _save(request, form)
        if isinstance(machine, Machine):
            messages.success(
                request,
                _("%(machine)s added. Now set its opening hours.") % {"machine": machine.name},
            )
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
    consequences = None
    if request.method == "POST":
        saved = _save(request, form)
        if isinstance(saved, Machine):
            notice = _("%(machine)s saved.") % {"machine": saved.name}
            messages.success(request, f"{notice} {CONFIRMED}" if _confirm(request) else notice)
            return redirect(saved)
        consequences = saved
    return render(
        request,
        "equipment/machine_form.html",
        {"form": form, "consequences": consequences, **_hours_context(machine)},
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


def _hours_action(request, slug: str, form_class, action, *, invalid: str, done: str, change):
    """Run `action(machine, cleaned_data, confirm)` on the posted form: htmx gets the opening-hours
    panel back with the outcome in it (or the bookings the change breaks, to confirm), a plain
    post goes back to the edit page (outcome flashed; the bookings shown on the page)."""
    machine = staff_object_or_404(request, Machine, what="opening hours", slug=slug)
    activate(machine)  # its times in its location's zone
    form = form_class(request.POST)
    asked: list[Consequences] = []

    def attempt(data):
        try:
            return action(machine, data, _confirm(request))
        except ChangeNeedsConfirmation as needs:
            asked.append(needs.consequences)

    confirmed = f" {CONFIRMED}" if _confirm(request) else ""
    outcome = form_action(
        request,
        form,
        attempt,
        success=lambda _: "" if asked else done + confirmed,
        invalid=invalid,
        flash=not request.htmx,
    )
    if asked:
        # The change again as hidden fields, without ids (the add form below has those).
        pending = form_class(request.POST, auto_id=False)
        said = {
            "hours_consequences": asked[0],
            "hours_change": change(machine, form.cleaned_data),
            "pending": pending,
            "pending_url": request.path,
        }
    elif not request.htmx:
        return redirect(f"{reverse('equipment:machine_edit', args=[machine.slug])}#hours")
    else:
        said = {"notice": outcome.message} if outcome else {"error": outcome.message}
    # Only a refused add form is shown again with what was typed; the remove buttons are rebuilt.
    if not outcome and form_class is OpeningHoursForm:
        said["hours_form"] = form
    if request.htmx:
        return render(request, "equipment/_opening_hours.html", _hours_context(machine, **said))
    edit = MachineForm(instance=machine)
    return render(
        request, "equipment/machine_form.html", {"form": edit, **_hours_context(machine, **said)}
    )


@login_required
@manage_required
@require_POST
def opening_hours_add(request, slug: str):
    return _hours_action(
        request,
        slug,
        OpeningHoursForm,
        lambda machine, data, confirm: services.opening_hours_add(
            machine=machine,
            weekdays=data["weekdays"],
            opens=data["opens"],
            closes=data["closes"],
            actor=request.user,
            token=data["form_token"],
            confirm=confirm,
        ),
        invalid=_("Choose the days and both times."),
        done=_("Opening hours added."),
        change=_adding,
    )


@login_required
@manage_required
@require_POST
def opening_hours_remove(request, slug: str):
    return _hours_action(
        request,
        slug,
        OpeningRemoveForm,
        lambda machine, data, confirm: services.opening_hours_remove(
            machine=machine,
            opening_id=data["opening_id"],
            weekday=data["weekday"],
            actor=request.user,
            token=data["form_token"],
            confirm=confirm,
        ),
        invalid=_("Choose the hours to remove."),
        done=_("Opening hours removed."),
        change=_removing,
    )


DASH = "\N{EN DASH}"


def _adding(machine: Machine, data: dict) -> str:
    """The hours change waiting for a confirmation, as its heading names it."""
    names = [str(WEEKDAY_NAMES[day]) for day in sorted(data["weekdays"])]
    days = (
        _("%(days)s and %(last)s") % {"days": ", ".join(names[:-1]), "last": names[-1]}
        if len(names) > 1
        else names[0]
    )
    return _("Opening %(days)s %(opens)s%(dash)s%(closes)s") % {
        "days": days,
        "opens": f"{data['opens']:%H:%M}",
        "dash": DASH,
        "closes": closing_label(data["closes"]),
    }


def _removing(machine: Machine, data: dict) -> str:
    hours = next(
        i
        for i in selectors.opening_intervals(machine)
        if (i.opening_id, i.weekday) == (data["opening_id"], data["weekday"])
    )
    return _("Removing %(day)s %(opens)s%(dash)s%(closes)s") % {
        "day": WEEKDAY_NAMES[hours.weekday],
        "opens": f"{hours.opens:%H:%M}",
        "dash": DASH,
        "closes": hours.closes_label,
    }
