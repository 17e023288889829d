"""Gate alarms on the site: stored once, a welded contactor takes the machine out of service
(stopping it through the outbox) and emails its maintainers, and the live page shows them.
Busy seconds from the gate's power meter land on the usage session."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from access.bridge import GateBridge
from access.models import GateAlarm, GateMessage, UsageSession
from equipment.models import MachineState, MachineStateChange
from gate_agent import protocol as p
from tests.factories.access import GateDeviceFactory
from tests.factories.membership import UserFactory

from .test_bridge import event, events


@pytest.fixture
def device(scene):
    return GateDeviceFactory(machine=scene.machine)


def _alarm(reason: str, **fields) -> p.GateEvent:
    return event(p.EVENT_ALARM, reason=reason, **fields)


def test_a_welded_contactor_takes_the_machine_out_of_service_and_emails_maintainers(
    scene, device, django_capture_on_commit_callbacks
):
    maintainer = UserFactory(email="fixer@example.org")
    scene.machine.maintainers.add(maintainer)
    alarm = _alarm("current_while_off")
    with django_capture_on_commit_callbacks(execute=True):
        GateBridge().handle(*events(device, alarm))
    scene.machine.refresh_from_db()
    assert scene.machine.state == MachineState.OUT_OF_SERVICE
    assert "welded contactor" in scene.machine.state_reason
    assert device.device_id in scene.machine.state_reason
    change = MachineStateChange.objects.get(machine=scene.machine)
    assert change.actor is None and change.to_state == MachineState.OUT_OF_SERVICE
    stored = GateAlarm.objects.get()
    assert (stored.reason, stored.gate_event_id, stored.took_out_of_service) == (
        "current_while_off",
        alarm.id,
        True,
    )
    # Whatever runs on it is stopped through the outbox.
    assert GateMessage.objects.filter(device=device, kind="command").exists()
    # The maintainers hear of the alarm (booked members are told of the machine separately).
    (email,) = [email for email in mail.outbox if email.to == ["fixer@example.org"]]
    assert scene.machine.name in email.subject and "out of service" in email.body


def test_each_maintainer_reads_the_alarm_in_their_own_language(
    scene, device, django_capture_on_commit_callbacks
):
    scene.machine.maintainers.add(
        UserFactory(email="minji@example.org", language="ko"),
        UserFactory(email="sam@example.org", language="en"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        GateBridge().handle(*events(device, _alarm("current_while_off")))
    # The booked member is told of the machine separately; two messages for the maintainers.
    readers = {"minji@example.org", "sam@example.org"}
    (korean,) = [email for email in mail.outbox if email.to == ["minji@example.org"]]
    (english,) = [email for email in mail.outbox if email.to == ["sam@example.org"]]
    assert not [email for email in mail.outbox if set(email.to) & readers and len(email.to) > 1]
    assert "게이트 경보" in korean.subject and "사용 중지 상태입니다" in korean.body
    assert "raised an alarm" not in korean.body and "welded contactor" not in korean.body
    assert "Gate alarm on" in english.subject and "raised an alarm" in english.body


def test_without_maintainers_staff_with_gate_rights_hear_of_the_alarm(
    scene, device, django_capture_on_commit_callbacks
):
    UserFactory(role="Staff", email="desk@example.org", language="ko")
    with django_capture_on_commit_callbacks(execute=True):
        GateBridge().handle(*events(device, _alarm("current_while_off")))
    (email,) = [email for email in mail.outbox if email.to == ["desk@example.org"]]
    assert "게이트 경보" in email.subject


def test_an_alarm_uploaded_twice_counts_once(scene, device, django_capture_on_commit_callbacks):
    alarm = _alarm("relay_stuck_on")
    bridge = GateBridge()
    with django_capture_on_commit_callbacks(execute=True):
        bridge.handle(*events(device, alarm))
        bridge.handle(*events(device, alarm))
    assert GateAlarm.objects.count() == 1
    assert MachineStateChange.objects.filter(machine=scene.machine).count() == 1


def test_an_alarm_on_a_machine_already_out_of_service_keeps_its_state(
    scene, device, django_capture_on_commit_callbacks
):
    scene.machine.state, scene.machine.state_reason = MachineState.OUT_OF_SERVICE, "New belt"
    scene.machine.save()
    with django_capture_on_commit_callbacks(execute=True):
        GateBridge().handle(*events(device, _alarm("current_while_off")))
    scene.machine.refresh_from_db()
    assert scene.machine.state_reason == "New belt"
    assert not GateAlarm.objects.get().took_out_of_service
    assert not MachineStateChange.objects.exists()


@pytest.mark.parametrize("reason", ["relay_unreachable", "relay_not_on", "meter_failed"])
def test_alarms_the_gate_handles_itself_are_shown_not_acted_on(
    scene, device, reason, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        GateBridge().handle(*events(device, _alarm(reason)))
    scene.machine.refresh_from_db()
    assert scene.machine.state == MachineState.IN_SERVICE
    assert GateAlarm.objects.get().reason == reason
    assert mail.outbox == []


def test_the_live_page_shows_alarms(scene, device, client, staff_user):
    GateBridge().handle(*events(device, _alarm("current_while_off")))
    client.force_login(staff_user)
    page = client.get(reverse("access:live")).content.decode()
    assert "welded contactor" in page and "Gate alarm" in page


def test_busy_seconds_land_on_the_session_never_beyond_its_length(scene, device):
    bridge = GateBridge()
    session_id = p.new_nonce()
    started = int(time.time()) - 600
    start = event(
        p.EVENT_SESSION_START,
        session_id=session_id,
        badge_uid=scene.badge_uid,
        at=started,
        grant_end=started + 3600,
    )
    bridge.handle(*events(device, start))
    end = event(p.EVENT_SESSION_END, session_id=session_id, at=started + 600, busy_seconds=420)
    bridge.handle(*events(device, end))
    session = UsageSession.objects.get()
    assert (session.busy_seconds, session.busy_minutes) == (420, 7)
    assert session.duration == timedelta(seconds=600)

    other = p.new_nonce()
    bridge.handle(*events(device, event(p.EVENT_SESSION_START, session_id=other, at=started)))
    too_busy = event(p.EVENT_SESSION_END, session_id=other, at=started + 60, busy_seconds=900)
    bridge.handle(*events(device, too_busy))
    assert UsageSession.objects.get(session_id=other).busy_seconds == 60


def test_a_session_end_without_a_meter_has_no_busy_time(scene, device):
    bridge = GateBridge()
    session_id = p.new_nonce()
    bridge.handle(*events(device, event(p.EVENT_SESSION_START, session_id=session_id)))
    bridge.handle(*events(device, event(p.EVENT_SESSION_END, session_id=session_id)))
    session = UsageSession.objects.get()
    assert session.busy_seconds is None and session.busy_minutes is None
