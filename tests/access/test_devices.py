"""The gate lifecycle: registering, disabling and enabling, replacing credentials, moving."""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest

from access.bridge import GateBridge
from access.devices import (
    gate_device_disable,
    gate_device_enable,
    gate_device_move,
    gate_device_register,
    gate_device_replace_credentials,
)
from access.errors import AccessError
from access.models import GateChange, GateChangeKind, GateDevice, GateMessage
from core.errors import DuplicateSubmission
from gate_agent import protocol as p
from tests.access.conftest import opened
from tests.access.test_bridge import request
from tests.factories.access import GateDeviceFactory
from tests.factories.equipment import MachineFactory
from tests.factories.membership import UserFactory


@pytest.fixture
def device(scene) -> GateDevice:
    return GateDeviceFactory(machine=scene.machine)


@pytest.fixture
def staff(db):
    return UserFactory(role="Staff")


def mosquitto_accepts(password_hash: str, password: str) -> bool:
    """Check a password against a `$7$` line the way Mosquitto does."""
    _, _, iterations, salt, digest = password_hash.split("$")
    computed = hashlib.pbkdf2_hmac(
        "sha512", password.encode(), base64.b64decode(salt), int(iterations)
    )
    return base64.b64encode(computed).decode() == digest


def test_register_device_gives_credentials_once_and_keeps_only_a_password_hash(db):
    credentials = gate_device_register(machine=MachineFactory(), device_id="laser-1")
    device = credentials.device
    assert device.secret == credentials.secret
    assert credentials.mqtt_password not in device.mqtt_password_hash
    assert mosquitto_accepts(device.mqtt_password_hash, credentials.mqtt_password)
    with pytest.raises(AccessError, match="already registered"):
        gate_device_register(machine=device.machine, device_id="laser-1")


def test_register_refuses_an_id_that_names_a_staff_page(db):
    with pytest.raises(AccessError, match="names a staff page"):
        gate_device_register(machine=MachineFactory(), device_id="new")


@pytest.mark.parametrize("bad_id", ["", "laser 1", "laser/1", "+", "#", "a" * 80])
def test_register_refuses_ids_that_break_the_topic_tree(db, bad_id):
    with pytest.raises(AccessError, match="letters, digits"):
        gate_device_register(machine=MachineFactory(), device_id=bad_id)


def test_disabling_keeps_the_reason_and_silences_the_gate_first(
    device, staff, published, django_capture_on_commit_callbacks
):
    """The switch-off and the empty allow-list are signed with the secret the gate holds."""
    with django_capture_on_commit_callbacks(execute=True):
        gate_device_disable(device=device, reason="  Pi stolen  ", actor=staff)
    device.refresh_from_db()
    assert (device.enabled, device.disabled_reason) == (False, "Pi stolen")
    change = GateChange.objects.get()
    assert (change.kind, change.reason, change.actor) == (
        GateChangeKind.DISABLED,
        "Pi stolen",
        staff,
    )
    [command] = opened(published, device, p.Command, p.Topic.COMMAND)
    assert (command.action, command.reason, command.badge_hashes) == (
        "switch_off",
        "gate_disabled",
        (),
    )
    assert GateMessage.objects.get(kind="command").actor == staff
    [allowlist] = opened(published, device, p.AllowList, p.Topic.ALLOWLIST)
    assert allowlist.entries == () and allowlist.version == device.allowlist_version


def test_disabled_gate_is_ignored_by_the_bridge(scene, device, staff):
    gate_device_disable(device=device, reason="Pi stolen", actor=staff)
    assert GateBridge().handle(*request(device, scene.badge_uid)) == []


@pytest.mark.parametrize("reason", ["", "   "])
def test_disabling_needs_a_reason(device, staff, reason):
    with pytest.raises(AccessError, match="Say why"):
        gate_device_disable(device=device, reason=reason, actor=staff)
    device.refresh_from_db()
    assert device.enabled and not GateMessage.objects.exists()


def test_disabling_twice_is_refused(device, staff):
    gate_device_disable(device=device, reason="Pi stolen", actor=staff)
    with pytest.raises(AccessError, match="already disabled"):
        gate_device_disable(device=device, reason="Again", actor=staff)


def test_enabling_clears_the_reason_and_sends_a_fresh_allow_list(
    scene, device, staff, published, django_capture_on_commit_callbacks
):
    gate_device_disable(device=device, reason="Pi stolen", actor=staff)
    with django_capture_on_commit_callbacks(execute=True):
        gate_device_enable(device=device, actor=staff)
    device.refresh_from_db()
    assert (device.enabled, device.disabled_reason) == (True, "")
    emptied, allowlist = opened(published, device, p.AllowList, p.Topic.ALLOWLIST)
    assert emptied.entries == () and allowlist.version > emptied.version
    assert p.allowlist_badge_hash(scene.badge_uid, device.secret) in {
        entry.badge_hash for entry in allowlist.entries
    }
    assert [c.kind for c in GateChange.objects.order_by("id")] == ["disabled", "enabled"]
    with pytest.raises(AccessError, match="already enabled"):
        gate_device_enable(device=device, actor=staff)


def test_replaced_credentials_lock_the_old_pi_out(
    scene, device, staff, published, django_capture_on_commit_callbacks
):
    old_secret, old_hash = device.secret, device.mqtt_password_hash
    signed_before = request(device, scene.badge_uid)
    with django_capture_on_commit_callbacks(execute=True):
        credentials = gate_device_replace_credentials(device=device, reason="SD card", actor=staff)
    device.refresh_from_db()

    assert device.secret == credentials.secret != old_secret
    assert device.mqtt_password_hash != old_hash
    assert mosquitto_accepts(device.mqtt_password_hash, credentials.mqtt_password)
    message = p.BadgeRequest.from_json(signed_before[1])
    assert p.verify(message, old_secret) and not p.verify(message, device.secret)
    # The bridge answers only requests signed with the new secret.
    assert GateBridge().handle(*request(device, scene.badge_uid, secret=old_secret)) == []
    assert GateBridge().handle(*request(device, scene.badge_uid))
    # The old Pi was told, in the secret it still trusts, to stop and forget its offline list.
    [command] = opened(published, device, p.Command, p.Topic.COMMAND, secret=old_secret)
    assert command.reason == "credentials_replaced"
    [allowlist] = opened(published, device, p.AllowList, p.Topic.ALLOWLIST, secret=old_secret)
    assert allowlist.entries == ()
    assert GateChange.objects.get().kind == GateChangeKind.CREDENTIALS_REPLACED


def test_replacing_a_disabled_gates_credentials_sends_it_nothing(device, staff, published):
    gate_device_disable(device=device, reason="Pi stolen", actor=staff)
    GateMessage.objects.all().delete()
    gate_device_replace_credentials(device=device, actor=staff)
    assert not GateMessage.objects.exists()


def test_moving_rebuilds_both_machines_allow_lists(
    scene, device, staff, published, django_capture_on_commit_callbacks
):
    staying = GateDeviceFactory(machine=scene.machine)
    drill = MachineFactory(name="Drill press")
    with django_capture_on_commit_callbacks(execute=True):
        gate_device_move(device=device, machine=drill, reason="Laser has two", actor=staff)
    device.refresh_from_db()
    assert device.machine == drill
    [moved_list] = opened(published, device, p.AllowList, p.Topic.ALLOWLIST)
    assert moved_list.entries == ()  # nobody booked the drill press
    [staying_list] = opened(published, staying, p.AllowList, p.Topic.ALLOWLIST)
    assert staying_list.entries  # the laser's booking is still listed
    change = GateChange.objects.get()
    assert (change.from_machine, change.to_machine) == (scene.machine, drill)


def test_moving_is_refused_while_the_relay_is_on(scene, device, staff):
    GateDevice.objects.filter(pk=device.pk).update(relay_on=True)
    with pytest.raises(AccessError, match="relay on"):
        gate_device_move(device=device, machine=MachineFactory(), actor=staff)
    device.refresh_from_db()
    assert device.machine == scene.machine and not GateChange.objects.exists()


def test_moving_to_the_same_machine_is_refused(scene, device, staff):
    with pytest.raises(AccessError, match="already on"):
        gate_device_move(device=device, machine=scene.machine, actor=staff)


def test_a_form_token_is_used_once(device, staff):
    token = uuid.uuid4()
    gate_device_replace_credentials(device=device, actor=staff, token=token)
    secret = GateDevice.objects.get(pk=device.pk).secret
    with pytest.raises(DuplicateSubmission):
        gate_device_replace_credentials(device=device, actor=staff, token=token)
    assert GateDevice.objects.get(pk=device.pk).secret == secret


def test_a_refused_action_releases_its_token(scene, device, staff):
    """The person corrects the form and sends the same page again."""
    token = uuid.uuid4()
    with pytest.raises(AccessError):
        gate_device_disable(device=device, reason="", actor=staff, token=token)
    gate_device_disable(device=device, reason="Pi stolen", actor=staff, token=token)
