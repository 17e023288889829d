"""Gate device lifecycle: register, disable and enable, replace credentials, move to a machine.

Its own module because it builds on both the access decisions (`services`) and the allow-lists
(`allowlist`), which itself builds on `services`.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from access.allowlist import allowlist_empty
from access.broker import mosquitto_password_hash
from access.errors import AccessError
from access.gates import allowlists_refresh, gate_command_queue
from access.models import GateChange, GateChangeKind, GateDevice
from access.outbox import outbox_signed_allowlist
from core.submissions import submission_claim
from equipment.models import Machine
from gate_agent import protocol
from staffing.services import require_at_location


@dataclass(frozen=True)
class DeviceCredentials:
    """Shown to staff once, at registration or replacement: the site keeps only what it needs."""

    device: GateDevice
    secret: str
    mqtt_password: str


# /access/gates/new/ registers a gate, so a gate called "new" would have no page of its own.
RESERVED_DEVICE_IDS = frozenset({"new"})


def gate_device_register(
    *, machine: Machine, device_id: str, token: uuid.UUID | None = None
) -> DeviceCredentials:
    device_id = device_id.strip()
    with transaction.atomic():
        submission_claim(token)
        try:
            protocol.gate_topic(device_id, protocol.Topic.REQUEST)
        except protocol.ProtocolError:
            raise AccessError(
                _("A device id uses letters, digits, '-' and '_' only (for example laser-1).")
            ) from None
        if device_id in RESERVED_DEVICE_IDS:
            raise AccessError(
                _("%(device)r names a staff page; choose another id.") % {"device": device_id}
            )
        if GateDevice.objects.filter(device_id=device_id).exists():
            raise AccessError(
                _("A gate called %(device)r is already registered.") % {"device": device_id}
            )
        secret, password = _new_secrets()
        device = GateDevice.objects.create(
            machine=machine,
            device_id=device_id,
            secret=secret,
            mqtt_username=f"gate-{device_id}",
            mqtt_password_hash=mosquitto_password_hash(password),
        )
    return DeviceCredentials(device, secret, password)


def gate_device_disable(
    *, device: GateDevice, reason: str, actor, token: uuid.UUID | None = None
) -> GateDevice:
    """Stop serving a gate: the bridge ignores it from now on. Its machine is switched off and
    its offline allow-list emptied first, while the gate still trusts the site's signature."""
    reason = reason.strip()
    if not reason:
        raise AccessError(_("Say why the gate is disabled; the reason is kept with it."))
    _staff_at(actor, device, "disable a gate")
    with transaction.atomic():
        submission_claim(token)
        device = _locked(device)
        if not device.enabled:
            raise AccessError(
                _("Gate %(device)s is already disabled.") % {"device": device.device_id}
            )
        _silence(device, reason="gate_disabled", message=_("This gate was disabled."), actor=actor)
        device.enabled = False
        device.disabled_reason = reason
        device.save(update_fields=["enabled", "disabled_reason"])
        GateChange.objects.create(
            device=device, kind=GateChangeKind.DISABLED, reason=reason, actor=actor
        )
    return device


def gate_device_enable(*, device: GateDevice, actor, token: uuid.UUID | None = None) -> GateDevice:
    """Serve a disabled gate again; a fresh allow-list is queued with the change."""
    _staff_at(actor, device, "enable a gate")
    with transaction.atomic():
        submission_claim(token)
        device = _locked(device)
        if device.enabled:
            raise AccessError(
                _("Gate %(device)s is already enabled.") % {"device": device.device_id}
            )
        device.enabled = True
        device.disabled_reason = ""
        device.save(update_fields=["enabled", "disabled_reason"])
        GateChange.objects.create(device=device, kind=GateChangeKind.ENABLED, actor=actor)
        allowlists_refresh([device.machine])
    return device


def gate_device_replace_credentials(
    *, device: GateDevice, reason: str = "", actor, token: uuid.UUID | None = None
) -> DeviceCredentials:
    """A new device secret and MQTT password (a lost or stolen Pi, a reimaged SD card).

    The old secret stops working as soon as this commits: the bridge confirms the secret of
    every badge request it decides against the database (and reads it for every other message),
    so its replies to the old Pi no longer verify and that Pi fails closed. Before that, the old Pi is told, under the old secret, to switch off and to forget
    its offline allow-list.
    """
    _staff_at(actor, device, "replace a gate's credentials")
    with transaction.atomic():
        submission_claim(token)
        device = _locked(device)
        if device.enabled:
            _silence(
                device,
                reason="credentials_replaced",
                message=_("This gate's credentials were replaced."),
                actor=actor,
            )
        secret, password = _new_secrets()
        device.secret = secret
        device.mqtt_password_hash = mosquitto_password_hash(password)
        device.save(update_fields=["secret", "mqtt_password_hash"])
        GateChange.objects.create(
            device=device,
            kind=GateChangeKind.CREDENTIALS_REPLACED,
            reason=reason.strip(),
            actor=actor,
        )
    return DeviceCredentials(device, secret, password)


def gate_device_move(
    *,
    device: GateDevice,
    machine: Machine,
    reason: str = "",
    actor,
    token: uuid.UUID | None = None,
) -> GateDevice:
    """Move a gate to another machine, only while its relay is off (a running session belongs
    to the old machine). Both machines' gates get new allow-lists, queued with the change."""
    _staff_at(actor, device, "move a gate")
    _staff_at(actor, machine, "move a gate to a machine")
    with transaction.atomic():
        submission_claim(token)
        device = _locked(device)
        left = device.machine
        if machine.pk == left.pk:
            raise AccessError(
                _("Gate %(device)s is already on %(machine)s.")
                % {"device": device.device_id, "machine": machine}
            )
        if device.relay_on:
            raise AccessError(
                _("Gate %(device)s reports its relay on: move it once %(machine)s is off.")
                % {"device": device.device_id, "machine": left}
            )
        device.machine = machine
        device.save(update_fields=["machine"])
        GateChange.objects.create(
            device=device,
            kind=GateChangeKind.MOVED,
            reason=reason.strip(),
            from_machine=left,
            to_machine=machine,
            actor=actor,
        )
        allowlists_refresh([left, machine])
    return device


def _staff_at(actor, obj, what: str) -> None:
    """A person acting must be staff where the gate or machine is (the system acts anywhere)."""
    if actor is not None:
        require_at_location(user=actor, obj=obj, what=what)


def _locked(device: GateDevice) -> GateDevice:
    """The device row, locked until the transaction ends: two staff changes never interleave."""
    return GateDevice.objects.select_for_update().select_related("machine").get(pk=device.pk)


def _new_secrets() -> tuple[str, str]:
    """A device secret (signing) and an MQTT password (broker login)."""
    return protocol.new_device_secret(), secrets.token_urlsafe(24)


def _silence(device: GateDevice, *, reason: str, message: str, actor) -> None:
    """A signed switch-off and an empty allow-list, signed with the device's current secret and
    queued with the change; both are re-sent until the gate acknowledges them."""
    gate_command_queue(
        devices=[device],
        action=protocol.ACTION_SWITCH_OFF,
        reason=reason,
        message=message,
        actor=actor,
    )
    outbox_signed_allowlist(device=device, allowlist=allowlist_empty(device))
