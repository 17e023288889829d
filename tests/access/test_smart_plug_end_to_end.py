"""End to end with a smart plug: the site's bridge and a real Mosquitto on one side, the agent
driving a simulated Shelly (its HTTP RPC, with digest auth) on the other. A scan switches the
plug on, the machine draws power (busy), stands idle (warned, then switched off, with the busy
time on the usage session), and then current flows with the relay off: a welded contactor,
which takes the machine out of service on the site and emails its maintainers."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from access.models import GateAlarm, UsageSession
from equipment.models import MachineState
from gate_agent.config import PowerConfig
from gate_agent.hardware.shelly import ShellyRelay
from gate_agent.hardware.simulated import RecordingDisplay
from gate_agent.hardware.twins import ShellyTwin
from tests.access.conftest import build_scene
from tests.access.live import wait_for
from tests.factories.membership import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "shelly-admin-pass"
POWER = PowerConfig(
    source="relay",
    busy_watts=100,
    idle_watts=10,
    idle_minutes=0.03,  # 1.8 s idle warns ...
    idle_grace_minutes=0.02,  # ... and 1.2 s more switches off
    sample_seconds=0.1,
    settle_seconds=0.3,
)


@pytest.fixture
def shelly():
    twin = ShellyTwin(password=PASSWORD)
    yield twin
    twin.close()


def _status_reads(twin: ShellyTwin) -> int:
    return sum(1 for r in twin.requests if r.startswith("/rpc/Switch.GetStatus"))


def test_scan_busy_idle_off_then_a_welded_contactor_is_caught(shelly, gate_for, staff_client):
    scene = build_scene()
    scene.machine.maintainers.add(UserFactory(email="maintainer@example.org"))
    relay = ShellyRelay(shelly.host, password=PASSWORD, timeout=1.0)
    display = RecordingDisplay()
    gate = gate_for(scene.machine, relay=relay, meter=relay, display=display, power=POWER)

    gate.reader.scan(scene.badge_uid)
    wait_for(lambda: shelly.output, "the Shelly to switch on")
    on_until = f"{scene.member.display_name}: on until "
    wait_for(lambda: any(line.startswith(on_until) for line in display.lines), "'on until'")

    shelly.load_watts = 900.0  # the machine runs
    reads = _status_reads(shelly)
    wait_for(lambda: _status_reads(shelly) >= reads + 15, "1.5 s of busy readings")
    shelly.load_watts = 3.0  # idle
    wait_for(lambda: any(line.startswith("Idle:") for line in display.lines), "the idle warning")
    assert shelly.output  # warned, not yet off
    wait_for(lambda: not shelly.output, "the Shelly to switch off when idle")
    wait_for(
        lambda: UsageSession.objects.filter(end_reason="idle_timeout").exists(),
        "the idle session's end on the site",
    )
    session = UsageSession.objects.get()
    assert session.member == scene.member
    assert session.busy_seconds is not None and session.busy_seconds >= 1
    assert session.busy_seconds < (session.ended_at - session.started_at).total_seconds()

    shelly.welded = True  # the contact stays closed: the machine draws with the relay off
    shelly.load_watts = 900.0
    wait_for(lambda: GateAlarm.objects.exists(), "the welded-contactor alarm on the site")
    alarm = GateAlarm.objects.get()
    assert alarm.reason == "current_while_off" and alarm.took_out_of_service
    scene.machine.refresh_from_db()
    assert scene.machine.state == MachineState.OUT_OF_SERVICE
    assert "welded contactor" in scene.machine.state_reason
    # The booked member is told of the machine too; the maintainers hear of the alarm.
    wait_for(
        lambda: any(email.to == ["maintainer@example.org"] for email in mail.outbox),
        "the maintainers' email",
    )
    page = staff_client.get(reverse("access:live")).content.decode()
    card = page[page.index(f'data-machine="{scene.machine.slug}"') :]
    assert "Gate alarm" in card and "welded contactor" in card and "Out of service" in card
