"""Staff gate pages: live view, emergency stop, registration with a usable config, web check."""

from __future__ import annotations

import re
import tomllib
from html import unescape

import pytest
from django.urls import reverse

from access.models import AccessEvent, GateCommand, GateDevice
from gate_agent.config import parse_config
from tests.factories.access import GateDeviceFactory


@pytest.fixture
def gate_staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_live_page_shows_each_machine_and_its_gate(gate_staff_client, scene):
    GateDeviceFactory(machine=scene.machine, online=True, relay_on=True)
    page = gate_staff_client.get(reverse("access:live")).content.decode()
    assert scene.machine.name in page and "online" in page and "power ON" in page
    fragment = gate_staff_client.get(reverse("access:live"), HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode()


def test_live_page_says_why_each_recent_scan_was_decided(gate_staff_client, scene):
    device = GateDeviceFactory(machine=scene.machine)
    for source, reason in (("gate", "no_booking_now"), ("offline", "offline_allowlist_stale")):
        AccessEvent.objects.create(
            source=source, badge_uid="DEADBEEF", device=device, machine=scene.machine,
            allowed=False, reason=reason,
        )  # fmt: skip
    fragment = gate_staff_client.get(reverse("access:live"), HTTP_HX_REQUEST="true")
    text = unescape(fragment.content.decode())
    assert "You have no booking on this machine right now" in text
    assert "the gate's allow-list was too old to trust" in text


def test_members_cannot_see_gates_or_stop_machines(member_client, scene):
    GateDeviceFactory(machine=scene.machine)
    assert member_client.get(reverse("access:live")).status_code == 403
    stop = member_client.post(reverse("access:emergency_stop", args=[scene.machine.slug]))
    assert stop.status_code == 403
    assert not GateCommand.objects.exists()


def test_emergency_stop_sends_a_signed_switch_off(gate_staff_client, scene, staff_user, settings):
    settings.GATE_BROKER_URL = "mqtt://127.0.0.1:1"  # nothing listens: the record is still kept
    device = GateDeviceFactory(machine=scene.machine)
    response = gate_staff_client.post(reverse("access:emergency_stop", args=[scene.machine.slug]))
    assert response.status_code == 302
    command = GateCommand.objects.get()
    assert (command.device, command.action, command.reason, command.actor) == (
        device,
        "switch_off",
        "emergency_stop",
        staff_user,
    )


def test_registration_shows_a_config_the_agent_accepts(gate_staff_client, scene, tmp_path):
    page = gate_staff_client.get(reverse("access:device_register")).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    response = gate_staff_client.post(
        reverse("access:device_register"),
        {"machine": scene.machine.pk, "device_id": "laser-1", "form_token": token},
    )
    toml = unescape(
        re.search(r"<pre[^>]*><code>(.*?)</code></pre>", response.content.decode(), re.S).group(1)
    )
    config = parse_config(tomllib.loads(toml), base=tmp_path)
    device = GateDevice.objects.get(device_id="laser-1")
    assert (config.device_id, config.secret, config.broker.username) == (
        "laser-1",
        device.secret,
        device.mqtt_username,
    )
    again = gate_staff_client.post(
        reverse("access:device_register"),
        {"machine": scene.machine.pk, "device_id": "laser-2", "form_token": token},
    )
    assert again.status_code == 400 and "already submitted" in again.content.decode()
    assert GateDevice.objects.count() == 1


def test_web_check_uses_the_same_decision_and_logs_it(gate_staff_client, scene):
    page = gate_staff_client.get(
        reverse("access:check"), {"machine": scene.machine.pk, "badge_uid": scene.badge_uid}
    ).content.decode()
    assert 'data-reason="allowed_booking"' in page
    assert AccessEvent.objects.get().source == "web"
