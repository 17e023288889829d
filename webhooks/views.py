"""Staff pages of webhooks out: endpoints, each with its delivery log and actions."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.views import form_action
from staffing.shortcuts import head_office_only
from webhooks import selectors, services
from webhooks.forms import EndpointActionForm, EndpointDisableForm, EndpointForm
from webhooks.models import Endpoint


def webhook_staff(view):
    """Endpoints receive every location's events: the head office's to manage."""
    allowed = permission_required("webhooks.manage_endpoints", raise_exception=True)
    return allowed(head_office_only("manage webhook endpoints")(view))


PAGE_SIZE = 50


@login_required
@webhook_staff
def endpoint_list(request):
    return render(
        request, "webhooks/endpoint_list.html", {"endpoints": selectors.endpoints_listing()}
    )


@login_required
@webhook_staff
def endpoint_new(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST":
        outcome = form_action(
            request,
            form,
            lambda data: services.endpoint_create(
                name=data["name"],
                url=data["url"],
                event_types=data["event_types"],
                payload_format=data["payload_format"],
                actor=request.user,
                token=data["form_token"],
            ),
            success=lambda e: f"{e.name} registered. Give its receiver the signing secret below.",
        )
        if outcome:
            return redirect("webhooks:endpoint_detail", pk=outcome.value.pk)
    # Here after a POST only when refused: the form and the reason, as a 400.
    status = 400 if request.method == "POST" else 200
    return render(request, "webhooks/endpoint_form.html", {"form": form}, status=status)


@login_required
@webhook_staff
def endpoint_detail(request, pk: int):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    form = EndpointForm(
        request.POST or None,
        initial={
            "name": endpoint.name,
            "url": endpoint.url,
            "event_types": endpoint.event_types,
            "payload_format": endpoint.payload_format,
        },
    )
    if request.method == "POST":
        outcome = form_action(
            request,
            form,
            lambda data: services.endpoint_update(
                endpoint=endpoint,
                name=data["name"],
                url=data["url"],
                event_types=data["event_types"],
                payload_format=data["payload_format"],
            ),
            success="Saved.",
        )
        if outcome:
            return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
    page = Paginator(selectors.endpoint_deliveries(endpoint), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "form": form,
            "page": page,
            "action_form": EndpointActionForm(),
            "disable_form": EndpointDisableForm(),
        },
        status=400 if request.method == "POST" else 200,
    )


# The buttons of an endpoint's page: what each does, and what the person is told.
ACTIONS = {
    "test": (
        EndpointActionForm,
        lambda endpoint, data: services.endpoint_send_test(endpoint=endpoint),
        _("Test event queued: its delivery shows below in a moment."),
    ),
    "disable": (
        EndpointDisableForm,
        lambda endpoint, data: services.endpoint_disable(endpoint=endpoint, reason=data["reason"]),
        _("Disabled: events still arrive and wait, in order, until you enable it again."),
    ),
    "enable": (
        EndpointActionForm,
        lambda endpoint, data: services.endpoint_enable(endpoint=endpoint),
        _("Enabled: what waited is being delivered."),
    ),
    "new-secret": (
        EndpointActionForm,
        lambda endpoint, data: services.endpoint_rotate_secret(endpoint=endpoint),
        _("New secret made: deliveries are signed with it from now on. Give it to the receiver."),
    ),
}


@require_POST
@login_required
@webhook_staff
def endpoint_action(request, pk: int, action: str):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    form_class, act, success = ACTIONS[action]
    form_action(
        request, form_class(request.POST), lambda data: act(endpoint, data), success=success
    )
    return redirect("webhooks:endpoint_detail", pk=endpoint.pk)


@require_POST
@login_required
@webhook_staff
def endpoint_delete(request, pk: int):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    outcome = form_action(
        request,
        EndpointActionForm(request.POST),
        lambda data: services.endpoint_delete(endpoint=endpoint),
        success=f"{endpoint.name} deleted, with its deliveries.",
    )
    if outcome:
        return redirect("webhooks:endpoint_list")
    return redirect("webhooks:endpoint_detail", pk=pk)
