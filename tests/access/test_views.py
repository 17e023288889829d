"""Staff gate pages: live view, emergency stop, registration with a usable config, web check, a
gate's page and its actions, the access log and its CSV; every member's machine time."""

from __future__ import annotations

import csv
import io
import re
import tomllib
from html import unescape

import pytest
from django.urls import reverse

from access.models import AccessEvent, GateDevice, GateMessage
from access.outbox import outbox_command
from access.policy import Reason
from access.services import access_decide
from gate_agent.config import parse_config
from tests.factories.access import AccessEventFactory, GateDeviceFactory, UsageSessionFactory
from tests.factories.equipment import MachineFactory
from tests.factories.membership import ready_member


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
    assert not GateMessage.objects.exists()


def test_emergency_stop_queues_a_switch_off_and_locks_the_machine(
    gate_staff_client, scene, staff_user, settings
):
    """The request opens no broker connection (a wrong broker URL changes nothing): the command
    is queued, staff read that it is, and every scan is refused until they clear the stop."""
    settings.GATE_BROKER_URL = "mqtts://nowhere.invalid:1"
    device = GateDeviceFactory(machine=scene.machine)
    response = gate_staff_client.post(
        reverse("access:emergency_stop", args=[scene.machine.slug]), follow=True
    )
    assert response.status_code == 200
    command = GateMessage.objects.get(kind="command")
    assert (command.device, command.action, command.reason, command.actor, command.state) == (
        device,
        "switch_off",
        "emergency_stop",
        staff_user,
        "queued",
    )
    page = unescape(response.content.decode())
    assert "Emergency stop queued" in page and "every scan is refused" in page
    decision = access_decide(badge_uid=scene.badge_uid, machine=scene.machine, source="web")
    assert decision.decision.reason is Reason.EMERGENCY_STOPPED
    refused = gate_staff_client.post(
        reverse("access:emergency_clear", args=[scene.machine.slug]), {"reason": " "}, follow=True
    )
    assert "Say why" in refused.content.decode()
    gate_staff_client.post(
        reverse("access:emergency_clear", args=[scene.machine.slug]),
        {"reason": "Lens cleaned, checked by Sam"},
    )
    decision = access_decide(badge_uid=scene.badge_uid, machine=scene.machine, source="web")
    assert decision.decision.allowed


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


def test_the_check_page_tells_the_decision_in_the_readers_language(gate_staff_client, scene):
    """The policy's sentence is English on the wire; a reader of Korean reads it in Korean."""
    stranger = {"machine": scene.machine.pk, "badge_uid": "04:NO:BODY"}
    english = gate_staff_client.get(reverse("access:check"), stranger).content.decode()
    assert "Refused" in english and Reason.UNKNOWN_BADGE.sentence in english
    korean = gate_staff_client.get(
        reverse("access:check"), stranger, HTTP_ACCEPT_LANGUAGE="ko"
    ).content.decode()
    assert 'data-reason="unknown_badge"' in korean
    assert "거부" in korean and "등록되지 않은" in korean
    assert Reason.UNKNOWN_BADGE.sentence not in korean


def form_token(page: str, action: str) -> str:
    """The one-time token of the form posting to `action` on `page`."""
    form = re.search(rf'action="{re.escape(action)}".*?</form>', page, re.S).group(0)
    return re.search(r'name="form_token" value="([^"]+)"', form).group(1)


def shown_config(response) -> str:
    return unescape(
        re.search(r"<pre[^>]*><code>(.*?)</code></pre>", response.content.decode(), re.S).group(1)
    )


def test_the_gate_page_shows_state_commands_and_scans(gate_staff_client, scene, staff_user):
    device = GateDeviceFactory(
        machine=scene.machine, firmware="0.3.1", online=True, relay_on=True, allowlist_version=77
    )
    outbox_command(device=device, action="switch_off", reason="emergency_stop", message="")
    AccessEventFactory(machine=scene.machine, device=device, reason="no_booking_now")
    page = unescape(
        gate_staff_client.get(
            reverse("access:gate_detail", args=[device.device_id])
        ).content.decode()
    )
    for shown in ("0.3.1", "online", "power ON", "77", "emergency_stop", scene.machine.name):
        assert shown in page
    assert "You have no booking on this machine right now" in page
    live = gate_staff_client.get(reverse("access:live")).content.decode()
    assert reverse("access:gate_detail", args=[device.device_id]) in live


def test_disabling_from_the_page_keeps_the_reason_and_shows_the_broker_step(
    gate_staff_client, scene
):
    device = GateDeviceFactory(machine=scene.machine)
    url = reverse("access:gate_detail", args=[device.device_id])
    action = reverse("access:gate_disable", args=[device.device_id])
    token = form_token(gate_staff_client.get(url).content.decode(), action)
    response = gate_staff_client.post(action, {"reason": "", "form_token": token})
    assert response.status_code == 400 and "Please correct the form" in response.content.decode()

    response = gate_staff_client.post(
        action, {"reason": "Pi stolen", "form_token": token}, follow=True
    )
    page = unescape(response.content.decode())
    assert (
        "Pi stolen" in page
        and "gate_broker_config" in page
        and "systemctl reload mosquitto" in page
    )
    assert not GateDevice.objects.get().enabled
    live = gate_staff_client.get(reverse("access:live")).content.decode()
    assert "Disabled gates" in live and "Pi stolen" in live

    enable = reverse("access:gate_enable", args=[device.device_id])
    response = gate_staff_client.post(enable, {"form_token": form_token(page, enable)})
    assert response.status_code == 302 and GateDevice.objects.get().enabled


def test_replacing_credentials_shows_the_new_config_once(gate_staff_client, scene, tmp_path):
    device = GateDeviceFactory(machine=scene.machine)
    old_secret = device.secret
    action = reverse("access:gate_credentials", args=[device.device_id])
    page = gate_staff_client.get(reverse("access:gate_detail", args=[device.device_id]))
    token = form_token(page.content.decode(), action)
    response = gate_staff_client.post(action, {"reason": "SD card", "form_token": token})
    config = parse_config(tomllib.loads(shown_config(response)), base=tmp_path)
    device.refresh_from_db()
    assert config.secret == device.secret != old_secret
    assert "no-store" in response["Cache-Control"]
    assert "gate_broker_config" in response.content.decode()

    again = gate_staff_client.post(action, {"reason": "SD card", "form_token": token})
    assert again.status_code == 400 and "already submitted" in again.content.decode()
    assert device.secret not in again.content.decode()
    assert GateDevice.objects.get().secret == device.secret


def test_moving_a_running_gate_is_refused_on_the_page(gate_staff_client, scene):
    device = GateDeviceFactory(machine=scene.machine, relay_on=True)
    drill = MachineFactory(name="Drill press")
    action = reverse("access:gate_move", args=[device.device_id])
    page = gate_staff_client.get(reverse("access:gate_detail", args=[device.device_id]))
    response = gate_staff_client.post(
        action, {"machine": drill.pk, "form_token": form_token(page.content.decode(), action)}
    )
    assert response.status_code == 400 and "relay on" in response.content.decode()
    assert GateDevice.objects.get().machine == scene.machine


def test_members_cannot_manage_gates_or_read_the_log(member_client, member, scene):
    device = GateDeviceFactory(machine=scene.machine)
    gets = [
        reverse("access:gate_detail", args=[device.device_id]),
        reverse("access:log"),
        reverse("access:log_export"),
        reverse("access:member_usage", args=[member.pk]),
    ]
    for url in gets:
        assert member_client.get(url).status_code == 403, url
    for name in ("gate_disable", "gate_enable", "gate_credentials", "gate_move"):
        url = reverse(f"access:{name}", args=[device.device_id])
        assert member_client.post(url, {"reason": "x"}).status_code == 403, url
    assert GateDevice.objects.get().secret == device.secret and device.enabled


def test_the_access_log_pages_through_the_filtered_rows(gate_staff_client, scene):
    AccessEventFactory.create_batch(51, machine=scene.machine)
    AccessEventFactory(machine=MachineFactory())
    first = gate_staff_client.get(reverse("access:log"), {"machine": scene.machine.pk})
    assert first.content.decode().count("data-event=") == 50
    assert "Page 1 of 2 (51 in all)" in first.content.decode()
    second = gate_staff_client.get(
        reverse("access:log"), {"machine": scene.machine.pk, "page": 2}
    ).content.decode()
    assert second.count("data-event=") == 1
    assert f"machine={scene.machine.pk}" in second  # the page links keep the filter


def test_the_access_log_refuses_a_backwards_date_range(gate_staff_client, db):
    response = gate_staff_client.get(
        reverse("access:log"), {"since": "2027-03-02", "until": "2027-03-01"}
    )
    assert response.status_code == 400 and "start date is after" in response.content.decode()


def test_the_csv_export_streams_the_filtered_rows(gate_staff_client, scene):
    user = scene.member.user
    user.first_name, user.last_name = 'Ada "The Countess"', "Lovelace, Byron"
    user.save()
    AccessEventFactory(
        machine=scene.machine, member=scene.member, allowed=True, reason="allowed_booking"
    )
    AccessEventFactory(machine=scene.machine, source="allowlist", member=scene.member)
    AccessEventFactory(machine=MachineFactory())
    response = gate_staff_client.get(reverse("access:log_export"), {"machine": scene.machine.pk})
    assert response.streaming and response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["member"] == 'Ada "The Countess" Lovelace, Byron'
    assert (rows[0]["allowed"], rows[0]["reason"]) == ("yes", "allowed_booking")
    assert rows[0]["reason_sentence"] == AccessEvent(reason="allowed_booking").reason_sentence


def test_a_name_that_is_a_formula_stays_text_in_the_csv(gate_staff_client, scene):
    scene.member.user.first_name = "=HYPERLINK(1)"
    scene.member.user.save()
    AccessEventFactory(machine=scene.machine, member=scene.member)
    response = gate_staff_client.get(reverse("access:log_export"))
    [row] = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert row["member"].startswith("'=HYPERLINK")


def test_my_machine_time_shows_only_my_sessions(client, scene):
    mine = UsageSessionFactory(member=scene.member, device__machine=scene.machine)
    theirs = UsageSessionFactory(member=ready_member(), device__machine=scene.machine)
    client.force_login(scene.member.user)
    page = client.get(reverse("access:my_usage")).content.decode()
    assert mine.session_id in page and theirs.session_id not in page
    assert "1 h 00 min" in page and "The booking ended." in page
    assert reverse("access:my_usage") in client.get(reverse("dashboard")).content.decode()


def test_staff_see_any_members_machine_time_from_the_log(gate_staff_client, scene):
    session = UsageSessionFactory(member=scene.member, device__machine=scene.machine)
    log = gate_staff_client.get(reverse("access:log"), {"member": scene.member.user.email})
    url = reverse("access:member_usage", args=[scene.member.pk])
    assert url in log.content.decode()
    assert session.session_id in gate_staff_client.get(url).content.decode()


def test_the_access_log_finds_an_unknown_badge_by_uid_and_sets_refusals_apart(
    gate_staff_client, scene
):
    """Searched by a UID nobody holds (in another reader's format), the log lists its scans only;
    allowed and refused rows differ by class and by word, not by a tick alone, with seconds."""
    allowed = AccessEventFactory(
        machine=scene.machine, member=scene.member, badge_uid="0A0B0C0D", allowed=True,
        reason="allowed_booking",
    )  # fmt: skip
    refused = AccessEventFactory(machine=scene.machine)  # DEADBEEF, nobody's
    page = gate_staff_client.get(reverse("access:log"), {"member": "de:ad:be:ef"}).content.decode()
    assert f'data-event="{refused.pk}"' in page and f'data-event="{allowed.pk}"' not in page
    assert "<code>DEADBEEF</code>" in page
    page = gate_staff_client.get(reverse("access:log")).content.decode()
    rows = {
        int(pk): row
        for pk, row in re.findall(r'<tr data-event="(\d+)"(.*?)</tr>', page, flags=re.S)
    }
    assert 'class="decision allowed"' in rows[allowed.pk] and "Allowed" in rows[allowed.pk]
    assert 'class="decision refused"' in rows[refused.pk] and "Refused" in rows[refused.pk]
    assert re.search(r"<time [^>]*>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+</time>", rows[refused.pk])
