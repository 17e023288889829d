"""Staff gate pages: live machines, emergency stop, gate registration, a web access check."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from access import selectors, services
from access.forms import AccessCheckForm, DeviceRegisterForm
from access.models import AccessSource
from access.mqtt import BrokerSettings
from equipment.models import Machine
from membership.errors import MembershipError
from membership.submissions import submission_claim

gate_staff = permission_required("access.manage_gates", raise_exception=True)


@login_required
@gate_staff
def live(request):
    template = "access/_live_machines.html" if request.htmx else "access/live.html"
    return render(
        request,
        template,
        {"machines": selectors.machines_live(), "check_form": AccessCheckForm()},
    )


@require_POST
@login_required
@gate_staff
def emergency_stop(request, slug: str):
    machine = get_object_or_404(Machine, slug=slug)
    services.gate_emergency_stop(machine=machine, actor=request.user)
    messages.warning(request, f"Emergency stop sent to {machine}.")
    return redirect("access:live")


@login_required
@gate_staff
def access_check(request):
    form = AccessCheckForm(request.GET or None)
    result = None
    if form.is_valid():
        result = services.access_decide(
            badge_uid=form.cleaned_data["badge_uid"],
            machine=form.cleaned_data["machine"],
            source=AccessSource.WEB,
        )
    return render(request, "access/check.html", {"form": form, "result": result})


@login_required
@gate_staff
def device_register(request):
    form = DeviceRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                submission_claim(form.cleaned_data["form_token"])
                credentials = services.gate_device_register(
                    machine=form.cleaned_data["machine"], device_id=form.cleaned_data["device_id"]
                )
        except (services.AccessError, MembershipError) as error:
            form.add_error(None, error.message)
        else:
            # The secret and password are shown this once; the site keeps no readable password.
            return render(
                request,
                "access/device_registered.html",
                {"device": credentials.device, "config": _agent_config(credentials)},
            )
    return render(
        request, "access/device_register.html", {"form": form}, status=400 if form.errors else 200
    )


def _agent_config(credentials: services.DeviceCredentials) -> str:
    broker = BrokerSettings.from_settings()
    return render_to_string(
        "access/gate.toml",
        {
            "device": credentials.device,
            "secret": credentials.secret,
            "password": credentials.mqtt_password,
            "broker": broker,
            "site_url": settings.SITE_URL,
        },
    )
