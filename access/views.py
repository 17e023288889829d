"""Staff gate pages: live machines, emergency stop, gates and their lifecycle, a web access check,
the access log; and every member's own machine time."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from access import devices, gates, selectors, services
from access.errors import AccessError
from access.export import access_log_csv
from access.forms import (
    AccessCheckForm,
    AccessLogFilterForm,
    DeviceRegisterForm,
    GateCredentialsForm,
    GateDisableForm,
    GateEnableForm,
    GateMoveForm,
)
from access.models import AccessSource, GateDevice
from access.mqtt import BrokerSettings
from core.errors import DomainError
from core.views import form_action
from equipment.models import Machine
from locations.zones import activate
from membership.models import Member
from membership.selectors import member_search
from membership.services import member_get_or_create
from staffing.selectors import staff_scope
from staffing.services import require_at_location
from staffing.shortcuts import staff_object_or_404

gate_staff = permission_required("access.manage_gates", raise_exception=True)
PAGE_SIZE = 50


@login_required
@gate_staff
def live(request):
    if request.htmx:
        return render(
            request,
            "access/_live_machines.html",
            {"machines": selectors.machines_live(scope=staff_scope(request.user))},
        )
    scope = staff_scope(request.user)
    return render(
        request,
        "access/live.html",
        {
            "machines": selectors.machines_live(scope=scope),
            "disabled_gates": selectors.gates_disabled(scope=scope),
        },
    )


@require_POST
@login_required
@gate_staff
def emergency_stop(request, slug: str):
    """Queued, not sent: the page shows each gate's delivery and acknowledgement as it comes."""
    machine = staff_object_or_404(request, Machine, what="emergency stop", slug=slug)
    activate(machine)  # its times in its location's zone
    queued = gates.gate_emergency_stop(machine=machine, actor=request.user)
    messages.warning(
        request,
        _(
            "Emergency stop queued for %(count)s gate(s) of %(machine)s: it is locked, every scan "
            "is refused until you clear it. Delivery to each gate shows below."
        )
        % {"count": len(queued), "machine": machine},
    )
    return redirect("access:live")


@require_POST
@login_required
@gate_staff
def emergency_clear(request, slug: str):
    machine = staff_object_or_404(request, Machine, what="clear an emergency stop", slug=slug)
    activate(machine)  # its times in its location's zone
    try:
        gates.gate_emergency_clear(
            machine=machine, actor=request.user, reason=request.POST.get("reason", "")
        )
    except AccessError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Emergency stop of %(machine)s cleared: scans are decided again.")
            % {"machine": machine},
        )
    return redirect("access:live")


@login_required
@gate_staff
def access_check(request):
    form = AccessCheckForm(request.GET or None)
    result = None
    if form.is_valid():
        require_at_location(
            user=request.user,
            obj=form.cleaned_data["machine"],
            what="access check",
            path=request.path,
        )
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
        require_at_location(
            user=request.user,
            obj=form.cleaned_data["machine"],
            what="register a gate",
            path=request.path,
        )
        try:
            credentials = devices.gate_device_register(
                machine=form.cleaned_data["machine"],
                device_id=form.cleaned_data["device_id"],
                token=form.cleaned_data["form_token"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return _credentials_page(request, credentials, replaced=False)
    return render(
        request, "access/device_register.html", {"form": form}, status=400 if form.errors else 200
    )


def _credentials_page(request, credentials: devices.DeviceCredentials, *, replaced: bool):
    """The secret and password, shown this once: the site keeps no readable password, and the
    page is not cached, so Back or a reload never brings them back."""
    response = render(
        request,
        "access/device_credentials.html",
        {
            "device": credentials.device,
            "config": _agent_config(credentials),
            "replaced": replaced,
        },
    )
    add_never_cache_headers(response)
    return response


def _agent_config(credentials: devices.DeviceCredentials) -> str:
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


@login_required
@gate_staff
def gate_detail(request, device_id: str):
    device = staff_object_or_404(
        request, GateDevice.objects.select_related("machine"), what="gate page", device_id=device_id
    )
    activate(device)  # its times in its location's zone
    return render(request, "access/gate_detail.html", _gate_context(device))


def _gate_context(device: GateDevice, **forms) -> dict:
    context = {
        "gate": selectors.gate_page(device),
        "disable_form": GateDisableForm(),
        "enable_form": GateEnableForm(),
        "credentials_form": GateCredentialsForm(),
        "move_form": GateMoveForm(initial={"machine": device.machine_id}),
    }
    context.update(forms)
    return context


def _gate_action(request, device_id: str, form_class, form_name: str, action, respond=None, **say):
    """Run the posted form through `action(device, cleaned_data)`, saying `say` (see
    core.views.form_action); done, `respond(device, value)` (default: back to the gate page),
    else the gate page again (400) with the refusal named at its top."""
    device = staff_object_or_404(
        request,
        GateDevice.objects.select_related("machine"),
        what="gate change",
        device_id=device_id,
    )
    activate(device)  # its times in its location's zone
    form = form_class(request.POST)
    outcome = form_action(request, form, lambda data: action(device, data), **say)
    if outcome:
        if respond is not None:
            return respond(device, outcome.value)
        return redirect("access:gate_detail", device_id=device.device_id)
    device.refresh_from_db()
    response = render(
        request, "access/gate_detail.html", _gate_context(device, **{form_name: form})
    )
    response.status_code = 400
    return response


@require_POST
@login_required
@gate_staff
def gate_disable(request, device_id: str):
    return _gate_action(
        request,
        device_id,
        GateDisableForm,
        "disable_form",
        lambda device, data: devices.gate_device_disable(
            device=device, reason=data["reason"], actor=request.user, token=data["form_token"]
        ),
        success=_("Gate %(device)s disabled: the site ignores it now.") % {"device": device_id},
        level=messages.WARNING,
    )


@require_POST
@login_required
@gate_staff
def gate_enable(request, device_id: str):
    return _gate_action(
        request,
        device_id,
        GateEnableForm,
        "enable_form",
        lambda device, data: devices.gate_device_enable(
            device=device, actor=request.user, token=data["form_token"]
        ),
        success=_(
            "Gate %(device)s enabled. Run gate_broker_config and reload Mosquitto so the broker "
            "accepts its MQTT user again."
        )
        % {"device": device_id},
    )


@require_POST
@login_required
@gate_staff
def gate_credentials(request, device_id: str):
    return _gate_action(
        request,
        device_id,
        GateCredentialsForm,
        "credentials_form",
        lambda device, data: devices.gate_device_replace_credentials(
            device=device, reason=data["reason"], actor=request.user, token=data["form_token"]
        ),
        respond=lambda device, credentials: _credentials_page(request, credentials, replaced=True),
    )


@require_POST
@login_required
@gate_staff
def gate_move(request, device_id: str):
    return _gate_action(
        request,
        device_id,
        GateMoveForm,
        "move_form",
        lambda device, data: devices.gate_device_move(
            device=device,
            machine=data["machine"],
            reason=data["reason"],
            actor=request.user,
            token=data["form_token"],
        ),
        success=lambda moved: (
            _("Gate %(device)s now switches %(machine)s.")
            % {"device": moved.device_id, "machine": moved.machine}
        ),
    )


@require_GET
@login_required
@gate_staff
def access_log(request):
    form = AccessLogFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "access/access_log.html", {"form": form}, status=400)
    query = form.cleaned_data["member"]
    return render(
        request,
        "access/access_log.html",
        {
            "form": form,
            "page": Paginator(
                selectors.access_log(form.log_filter(), scope=staff_scope(request.user)), PAGE_SIZE
            ).get_page(request.GET.get("page")),
            "members": list(
                staff_scope(request.user).filter(member_search(query), "home_location")[:10]
            )
            if query.strip()
            else [],
        },
    )


@require_GET
@login_required
@gate_staff
def access_log_export(request):
    form = AccessLogFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "access/access_log.html", {"form": form}, status=400)
    events = selectors.access_log(form.log_filter(), scope=staff_scope(request.user)).iterator(
        chunk_size=2000
    )
    response = StreamingHttpResponse(access_log_csv(events), content_type="text/csv")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="access-log-{stamp}.csv"'
    return response


@require_GET
@login_required
def my_usage(request):
    return _usage_page(request, member_get_or_create(user=request.user), own=True)


@require_GET
@login_required
@gate_staff
def member_usage(request, pk: int):
    return _usage_page(
        request,
        staff_object_or_404(
            request, Member.objects.select_related("user"), what="member's machine time", pk=pk
        ),
        own=False,
    )


def _usage_page(request, member: Member, *, own: bool):
    return render(
        request,
        "access/usage.html",
        {
            "member": member,
            "own": own,
            "page": Paginator(selectors.member_usage_sessions(member), PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            "month_totals": selectors.member_usage_month_totals(member),
            "month": timezone.localdate(),
        },
    )
