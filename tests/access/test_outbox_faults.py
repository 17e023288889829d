"""Faults on the way to the gates, on a real Mosquitto: the broker down while changes happen, a
bridge that dies holding messages, a message sent twice, a broker setting that is wrong."""

from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from access import outbox
from access.bridge import BridgeRunner, GateBridge
from access.devices import gate_device_disable
from access.gates import gate_emergency_clear, gate_emergency_stop
from access.models import DeliveryState, GateMessage
from membership import services as membership_services
from membership.models import ChangeCause, MembershipStatus
from tests.access.conftest import build_scene
from tests.access.live import wait_for
from tests.factories.equipment import MachineFactory
from tests.factories.membership import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.mosquitto]
SETTLED = (DeliveryState.ACKNOWLEDGED, DeliveryState.SUPERSEDED)


def settled(devices) -> bool:
    return not GateMessage.objects.filter(device__in=devices).exclude(state__in=SETTLED).exists()


def test_changes_while_the_broker_is_down_are_queued_then_acknowledged_in_order(gate_for, broker):
    """The member lapses, staff press an emergency stop and disable a gate while the broker is
    down: every call returns at once, and once the broker is back every message is delivered
    and acknowledged within seconds, in order per gate, and the disabled gate's list is empty."""
    scene = build_scene()
    running = gate_for(scene.machine)
    other = gate_for(MachineFactory())
    running.reader.scan(scene.badge_uid)
    wait_for(lambda: running.relay.is_on, "the relay to switch on")
    staff = UserFactory(is_superuser=True)

    broker.stop()
    wait_for(lambda: not running.agent.transport.connected, "the gates to notice the outage")
    membership_services.membership_set_status(
        membership=scene.member.membership,
        status=MembershipStatus.CANCELED,
        reason="Moved away",
        cause=ChangeCause.STAFF,
    )
    gate_emergency_stop(machine=other_machine(other), actor=staff)
    gate_device_disable(device=device_of(other), reason="Pi stolen", actor=staff)
    assert GateMessage.objects.filter(state=DeliveryState.QUEUED).count() >= 4

    broker.start()
    back = timezone.now()
    wait_for(lambda: settled([device_of(running), device_of(other)]), "every acknowledgement")
    print(f"broker back to the last acknowledgement: {took_since(back):.2f} s")
    took = (
        max(
            GateMessage.objects.filter(acknowledged_at__isnull=False).values_list(
                "acknowledged_at", flat=True
            )
        )
        - back
    )
    assert took.total_seconds() < 5
    assert not running.relay.is_on
    for gate in (running, other):
        commands = GateMessage.objects.filter(device=device_of(gate), kind="command")
        acked = [m.acknowledged_at for m in commands.order_by("id")]
        assert acked == sorted(acked)
    assert other.agent.agent.allowlist.entries == ()


def took_since(back) -> float:
    return (timezone.now() - back).total_seconds()


def device_of(gate):
    from access.models import GateDevice

    return GateDevice.objects.get(device_id=gate.agent.agent.device_id)


def other_machine(gate):
    return device_of(gate).machine


def test_a_bridge_that_dies_holding_messages_leaves_them_to_another(gate_for):
    """A bridge claims messages and dies before publishing: their lease runs out and the live
    bridge delivers them; the switch-off still reaches the gate."""
    scene = build_scene()
    gate = gate_for(scene.machine)
    gate.reader.scan(scene.badge_uid)
    wait_for(lambda: gate.relay.is_on, "the relay to switch on")
    gate.bridge.stop()  # the live bridge steps aside while a doomed one claims
    gate._threads[0].join()
    gate_emergency_stop(machine=scene.machine, actor=UserFactory(is_superuser=True))
    assert outbox.outbox_claim()  # ... and the bridge that claimed them dies here
    survivor = BridgeRunner(GateBridge(), gate.bridge.broker, client_id="survivor-bridge")
    thread = threading.Thread(target=survivor.run, kwargs={"housekeeping_seconds": 3600})
    thread.start()
    try:
        wait_for(lambda: not gate.relay.is_on, "the survivor's switch-off", deadline=15)
        wait_for(lambda: settled([device_of(gate)]), "the acknowledgement")
    finally:
        survivor.stop()
        thread.join()


def test_a_message_sent_twice_is_applied_once(gate_for):
    """An emergency stop that reaches the gate twice (its ack was lost) is acknowledged twice
    and applied once: the session started after the first one keeps running."""
    scene = build_scene()
    gate = gate_for(scene.machine)
    staff = UserFactory(is_superuser=True)
    gate_emergency_stop(machine=scene.machine, actor=staff)
    stop = GateMessage.objects.get(kind="command")
    wait_for(lambda: settled([stop.device]), "the first acknowledgement")
    gate_emergency_clear(machine=scene.machine, actor=staff, reason="Checked")
    gate.reader.scan(scene.badge_uid)
    wait_for(lambda: gate.relay.is_on, "the relay to switch on after the stop was cleared")
    GateMessage.objects.filter(pk=stop.pk).update(
        state=DeliveryState.DELIVERED, acknowledged_at=None, next_attempt_at=timezone.now()
    )
    wait_for(
        lambda: GateMessage.objects.get(pk=stop.pk).state == DeliveryState.ACKNOWLEDGED,
        "the second acknowledgement",
    )
    assert gate.relay.is_on and gate.relay.transitions == [True]


@pytest.mark.parametrize(
    ("url", "ca_file", "says"),
    [
        ("http://broker.example.org", "", "mqtt://"),
        ("mqtts://broker.example.org:8883", "/nonexistent/ca.pem", "GATE_BROKER_CA_FILE"),
    ],
)
def test_a_wrong_broker_setting_is_a_clear_bridge_error(settings, url, ca_file, says):
    settings.GATE_BROKER_URL, settings.GATE_BROKER_CA_FILE = url, ca_file
    with pytest.raises(CommandError, match=says):
        call_command("gate_bridge")
