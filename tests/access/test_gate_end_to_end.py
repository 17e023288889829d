"""The whole gate over a real Mosquitto: bridge and site on one side, the Pi agent with a
simulated relay on the other. Each test gets a private broker so outages can be staged."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from access.bridge import BridgeRunner, GateBridge
from access.models import AccessEvent, UsageSession
from access.mqtt import BrokerSettings, make_client
from bookings.models import BookingState
from bookings.services import booking_cancel, booking_extend
from gate_agent import protocol as p
from membership import services as membership_services
from membership.models import ChangeCause, MembershipStatus
from tests.access.conftest import build_scene, longer_on_the_grid
from tests.access.live import DEADLINE, wait_for
from tests.factories.equipment import certify
from tests.factories.membership import UserFactory, ready_member

pytestmark = pytest.mark.django_db(transaction=True)


def test_allowed_scan_switches_on_and_off_at_the_booking_end(gate_for):
    scene = build_scene()
    gate = gate_for(scene.machine)
    scene.booking.end = timezone.now() + timedelta(seconds=3)  # counted from the gate's start
    scene.booking.save()

    gate.reader.scan(scene.badge_uid)
    wait_for(lambda: gate.relay.is_on, "the relay to switch on")
    scene.booking.refresh_from_db()
    assert scene.booking.state == BookingState.CHECKED_IN
    wait_for(lambda: not gate.relay.is_on, "the relay to switch off at the booking end")
    assert time.time() >= int(scene.booking.end.timestamp())
    wait_for(
        lambda: UsageSession.objects.filter(ended_at__isnull=False).exists(),
        "the finished usage session to be recorded",
    )
    session = UsageSession.objects.get()
    assert (session.member, session.booking) == (scene.member, scene.booking)


def test_denied_scans_keep_the_relay_off(gate_for):
    scene = build_scene()
    disabled_uid = scene.badge_uid
    membership_services.badge_disable(badge=scene.member.badges.get(), reason="Lost", actor=None)
    gate = gate_for(scene.machine)
    for count, uid in enumerate((disabled_uid, "DEADBEEF"), start=1):
        gate.reader.scan(uid)
        wait_for(lambda n=count: gate.indicator.calls.count("denied") == n, f"refusal {count}")
    assert set(AccessEvent.objects.values_list("reason", flat=True)) == {
        "badge_disabled",
        "unknown_badge",
    }
    assert True not in gate.relay.transitions


def test_forged_reply_from_the_network_never_switches_the_relay(gate_for, broker):
    scene = build_scene()
    gate = gate_for(scene.machine)
    device_id = gate.agent.config.device_id
    attacker = make_client(BrokerSettings.from_settings())
    attacker.connect("127.0.0.1", broker.port)
    attacker.loop_start()
    try:
        forged = p.sign(
            p.AccessReply(
                device_id=device_id,
                nonce=p.new_nonce(),
                allowed=True,
                reason="allowed_booking",
                message="Welcome",
                member_name="Mallory",
                grant_end=int(time.time()) + 3600,
                issued_at=int(time.time()),
                expires_at=int(time.time()) + 30,
            ),
            "a-secret-the-attacker-guessed-0123456789",
        )
        attacker.publish(
            p.gate_topic(device_id, p.Topic.REPLY), forged.to_json(), qos=1
        ).wait_for_publish(5)
        on_command = p.build_command(
            device_id=device_id,
            secret="a-secret-the-attacker-guessed-0123456789",
            action=p.ACTION_EXTEND,
            reason="x",
            now=time.time(),
            grant_end=int(time.time()) + 3600,
        )
        attacker.publish(
            p.gate_topic(device_id, p.Topic.COMMAND), on_command.to_json(), qos=1
        ).wait_for_publish(5)
        time.sleep(0.5)  # what a wrongly accepted message would need to reach the relay
        assert True not in gate.relay.transitions
    finally:
        attacker.disconnect()
        attacker.loop_stop()


def test_a_recorded_genuine_reply_replayed_later_never_switches_the_relay(gate_for, broker):
    """Someone on the network records the site's real "allowed" reply and plays it back: after
    the booking is cancelled, and again while the member's next (refused) scan is pending."""
    scene = build_scene()
    gate = gate_for(scene.machine)
    device_id = gate.agent.config.device_id
    recorded: list[bytes] = []
    eavesdropper = make_client(BrokerSettings.from_settings())
    eavesdropper.on_message = lambda client, userdata, message: recorded.append(message.payload)
    eavesdropper.connect("127.0.0.1", broker.port)
    eavesdropper.loop_start()
    eavesdropper.subscribe(p.gate_topic(device_id, p.Topic.REPLY), qos=1)
    try:
        time.sleep(0.3)  # the subscription is in place before the scan
        gate.reader.scan(scene.badge_uid)
        wait_for(lambda: gate.relay.is_on, "the relay to switch on")
        wait_for(lambda: recorded, "the eavesdropper to record the genuine reply")
        [genuine] = recorded

        booking_cancel(booking=scene.booking, actor=UserFactory(role="Staff"), reason="Class")
        wait_for(lambda: not gate.relay.is_on, "the switch-off after the cancellation")
        switched_off = len(gate.relay.transitions)

        def replay() -> None:
            eavesdropper.publish(
                p.gate_topic(device_id, p.Topic.REPLY), genuine, qos=1
            ).wait_for_publish(5)

        replay()
        gate.reader.scan(scene.badge_uid)  # refused now: no booking
        replay()
        wait_for(
            lambda: AccessEvent.objects.filter(reason="no_booking_now").exists(),
            "the site to refuse the new scan",
        )
        time.sleep(0.5)  # what a wrongly accepted replay would need to reach the relay
        assert True not in gate.relay.transitions[switched_off:]
    finally:
        eavesdropper.disconnect()
        eavesdropper.loop_stop()


def test_a_booking_made_longer_online_keeps_the_running_machine_on_to_the_new_end(gate_for):
    scene = build_scene()
    gate = gate_for(scene.machine)
    gate.reader.scan(scene.badge_uid)
    wait_for(lambda: gate.relay.is_on, "the relay to switch on")

    new_end = longer_on_the_grid(scene.booking)
    booking_extend(booking=scene.booking, new_end=new_end, actor=scene.member.user)
    wait_for(
        lambda: gate.agent.agent.grant_end == int(new_end.timestamp()),
        "the gate's grant to reach the booking's new end",
    )
    assert gate.relay.is_on


def test_cancelled_membership_switches_the_running_machine_off_within_a_second(gate_for):
    scene = build_scene()
    gate = gate_for(scene.machine)
    gate.reader.scan(scene.badge_uid)
    wait_for(lambda: gate.relay.is_on, "the relay to switch on")

    membership_services.membership_set_status(
        membership=scene.member.membership,
        status=MembershipStatus.CANCELED,
        reason="Chargeback",
        cause=ChangeCause.STAFF,
    )
    took = wait_for(lambda: not gate.relay.is_on, "the switch-off push", deadline=1.0)
    assert took < 1.0


def test_broker_outage_grant_end_offline_allow_list_and_upload(gate_for, broker):
    scene = build_scene()
    maintainer = ready_member()
    scene.machine.maintainers.add(maintainer.user)
    certify(maintainer, scene.machine.required_certification)
    gate = gate_for(scene.machine)
    # The booking ends soon after the scan, however long a loaded machine took to start the gate.
    scene.booking.end = timezone.now() + timedelta(seconds=5)
    scene.booking.save()
    gate.reader.scan(scene.badge_uid)
    wait_for(lambda: gate.relay.is_on, "the relay to switch on")

    broker.stop()
    wait_for(lambda: not gate.agent.transport.connected, "the gate to notice the outage")
    assert gate.relay.is_on  # a running session keeps running...
    wait_for(lambda: not gate.relay.is_on, "...until its grant ends")
    assert time.time() >= scene.booking.end.timestamp() - 1  # ...and not before

    gate.reader.scan(maintainer.badges.get().uid)  # decided from the signed allow-list
    wait_for(lambda: gate.relay.is_on, "the offline allow-list decision")

    broker.start()
    wait_for(
        lambda: AccessEvent.objects.filter(source="offline", member=maintainer).exists(),
        "the offline decision to be uploaded after reconnecting",
    )
    wait_for(lambda: not gate.agent.agent.unsent_events(), "every gate event to be acknowledged")
    # The broker acknowledges the upload on receipt; the bridge records it a moment later.
    wait_for(
        lambda: UsageSession.objects.filter(member=maintainer).exists(),
        "the offline session to be recorded",
    )


def test_bridges_share_the_scans_and_the_survivor_answers_when_one_stops(gate_for):
    """Several bridges split the badge requests; when one goes, the others answer every scan."""
    scene = build_scene()
    gate = gate_for(scene.machine)
    second = BridgeRunner(GateBridge(), BrokerSettings.from_settings(), client_id="second-bridge")
    second_thread = threading.Thread(target=second.run, kwargs={"housekeeping_seconds": 3600})
    second_thread.start()
    answered: dict[str, int] = {"first": 0, "second": 0}
    for name, runner in (("first", gate.bridge), ("second", second)):
        handle_many = runner.bridge.handle_many

        def counting(messages, name=name, handle_many=handle_many):
            answered[name] += sum(topic.endswith("/request") for topic, _ in messages)
            return handle_many(messages)

        runner.bridge.handle_many = counting
    try:
        wait_for(second.connected.is_set, "the second bridge to connect")

        def scan_answered_online(count: int) -> None:
            gate.reader.scan("DEADBEEF")
            wait_for(
                lambda: gate.indicator.calls.count("denied") == count,
                f"the gate to show the refusal of scan {count}",
            )
            assert AccessEvent.objects.filter(source="gate").count() == count

        for count in range(1, 7):
            scan_answered_online(count)
        assert answered["first"] > 0 and answered["second"] > 0
    finally:
        second.stop()
        second_thread.join(timeout=DEADLINE)
    for count in range(7, 10):
        scan_answered_online(count)
    wait_for(lambda: not gate.agent.agent.unsent_events(), "every gate event to be acknowledged")
    assert not AccessEvent.objects.filter(source="offline").exists()  # none timed out
