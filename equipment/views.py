"""Machine pages: the list, a machine's page (with its booking grid), QR label, service, reports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Case, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.views import form_action
from equipment import selectors, services
from equipment.forms import MachineStateForm, ProblemReportForm, ResolveForm
from equipment.models import Machine, MachineEvent, ProblemReport
from locations.views import chosen_location
from locations.zones import activate
from staffing.selectors import staff_scope
from staffing.services import require_at_location


@require_GET
def machine_list(request):
    """Public: what the space has and what each machine needs (booking needs an account).

    Of the location the switcher names (a chain) or all; with one location as it always was.
    """
    choice = chosen_location(request)
    machines = selectors.machines_bookable().select_related("location", "area")
    if choice.current is not None:
        machines = machines.filter(location=choice.current)
    elif choice.shown:  # all locations: the member's home first
        machines = machines.order_by(
            Case(When(location=choice.home, then=0), default=1), "location__name", "name"
        )
    return render(request, "equipment/machine_list.html", {"machines": machines, "choice": choice})


@require_GET
def machine_detail(request, slug: str):
    machine = get_object_or_404(Machine.objects.select_related("required_certification"), slug=slug)
    activate(machine)  # its times in its location's zone
    may_service = selectors.user_may_service(request.user, machine)
    return render(
        request,
        "equipment/machine_detail.html",
        {
            "machine": machine,
            "may_service": may_service,
            "state_form": MachineStateForm(initial={"state": machine.state}),
            "report_form": ProblemReportForm(),
            "maintainers": machine.maintainers.all(),
            "week": selectors.opening_week(machine),
            "maintenance": machine.events.filter(kind=MachineEvent.Kind.MAINTENANCE)
            .select_related("event")
            .order_by("-event__start")[:10],
            "state_changes": machine.state_changes.select_related("actor")[:10]
            if may_service
            else [],
            "open_reports": selectors.problem_reports_open(machine.problem_reports.all())
            if may_service
            else [],
            "resolve_form": ResolveForm(),
        },
    )


@login_required
@require_GET
def machine_label(request, slug: str):
    """A printable label: the machine's name and a QR code of its page."""
    machine = get_object_or_404(Machine, slug=slug)
    activate(machine)  # its times in its location's zone
    url = request.build_absolute_uri(reverse("equipment:machine_detail", args=[machine.slug]))
    return render(
        request,
        "equipment/machine_label.html",
        {"machine": machine, "url": url, "qr_svg": services.machine_label_svg(url)},
    )


@login_required
@require_POST
def machine_state(request, slug: str):
    machine = get_object_or_404(Machine, slug=slug)
    _refuse_staff_elsewhere(request, machine, "machine state")
    activate(machine)  # its times in its location's zone
    form_action(
        request,
        MachineStateForm(request.POST),
        lambda data: services.machine_set_state(
            machine=machine,
            state=data["state"],
            reason=data["reason"],
            actor=request.user,
            token=data["form_token"],
        ),
        # Read after the change: the service sets the new state on `machine`.
        success=lambda _change: (
            _("%(machine)s is now %(state)s.")
            % {"machine": machine.name, "state": machine.get_state_display().lower()}
        ),
        invalid=_("Choose a state."),
    )
    return redirect(machine)


@login_required
@require_POST
def problem_report(request, slug: str):
    machine = get_object_or_404(Machine, slug=slug)
    activate(machine)  # its times in its location's zone
    form_action(
        request,
        ProblemReportForm(request.POST),
        lambda data: services.problem_report_create(
            machine=machine,
            reporter=request.user,
            description=data["description"],
            severity=data["severity"],
            token=data["form_token"],
        ),
        success=lambda report: (
            _("Thank you: %(machine)s is out of service now, and its maintainers are told.")
            % {"machine": machine.name}
            if report.state_change_id
            else _("Thank you: the machine's maintainers are told.")
        ),
        invalid=_("Describe the problem so staff can fix it."),
    )
    return redirect(machine)


@login_required
@permission_required("equipment.manage_machines", raise_exception=True)
@require_GET
def problem_list(request):
    return render(
        request,
        "equipment/problem_list.html",
        {
            "reports": selectors.problem_reports_open(scope=staff_scope(request.user)),
            "counts": selectors.problem_reports_open_counts(scope=staff_scope(request.user)),
            "resolve_form": ResolveForm(),
        },
    )


@login_required
@require_POST
def problem_resolve(request, pk: int):
    report = get_object_or_404(ProblemReport.objects.select_related("machine"), pk=pk)
    _refuse_staff_elsewhere(request, report.machine, "close a problem report")
    activate(report)  # its times in its location's zone
    form_action(
        request,
        ResolveForm(request.POST),
        lambda data: services.problem_report_resolve(
            report=report,
            actor=request.user,
            resolution=data["resolution"],
            token=data["form_token"],
        ),
        success=_("Report closed."),
    )
    if request.POST.get("next") == "list":
        return redirect("equipment:problem_list")
    return redirect(report.machine)


def _refuse_staff_elsewhere(request, machine: Machine, what: str) -> None:
    """Staff of another location (not a maintainer of this machine) are refused and logged; a
    member without the role gets the service's own refusal."""
    if request.user.has_perm("equipment.manage_machines") and not selectors.user_may_service(
        request.user, machine
    ):
        require_at_location(user=request.user, obj=machine, what=what, path=request.path)
