"""The bridge's cache of gates: a change to a gate counts from the next badge request on."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.bridge import GateBridge
from access.devices import gate_device_replace_credentials
from access.models import AccessEvent, AccessSource, GateDevice
from gate_agent import protocol as p
from tests.factories.access import GateDeviceFactory
from tests.factories.equipment import MachineFactory
from tests.factories.membership import UserFactory


@pytest.fixture
def device(scene) -> GateDevice:
    return GateDeviceFactory(machine=scene.machine)


def request(device: GateDevice, uid: str, *, secret: str | None = None) -> tuple[str, bytes]:
    message = p.sign(
        p.BadgeRequest(
            device_id=device.device_id,
            nonce=p.new_nonce(),
            badge_uid=uid,
            sent_at=int(time.time()),
            firmware="test",
        ),
        secret or device.secret,
    )
    return p.gate_topic(device.device_id, p.Topic.REQUEST), message.to_json()


def reply_to(outgoing, device: GateDevice, secret: str | None = None) -> p.AccessReply:
    [(topic, payload, _)] = outgoing
    assert topic == p.gate_topic(device.device_id, p.Topic.REPLY)
    return p.parse_signed(
        p.AccessReply, payload, device_id=device.device_id, secret=secret or device.secret
    )


@pytest.fixture
def warm(scene, device) -> GateBridge:
    """A bridge that has answered the gate once, so holds it in its cache."""
    bridge = GateBridge()
    assert reply_to(bridge.handle(*request(device, scene.badge_uid)), device).allowed
    return bridge


def test_a_cached_gate_costs_no_query_of_its_own(scene, device, warm):
    """A warm bridge's quiet decision: the facts statement, the event's insert and the
    webhook endpoints' look-up (plus the transaction's own statements)."""
    scan = request(device, scene.badge_uid)
    with CaptureQueriesContext(connection) as queries:
        assert reply_to(warm.handle(*scan), device).allowed
    statements = [q["sql"] for q in queries if q["sql"].split()[0] in ("SELECT", "WITH", "INSERT")]
    assert not any('"access_gatedevice"' in sql for sql in statements)
    assert len(statements) == 3


def test_a_gate_disabled_after_it_was_cached_is_refused_at_once(scene, device, warm):
    GateDevice.objects.filter(pk=device.pk).update(enabled=False, disabled_reason="Stolen")
    assert warm.handle(*request(device, scene.badge_uid)) == []
    assert AccessEvent.objects.filter(source=AccessSource.GATE).count() == 1


def test_a_gate_given_new_credentials_is_answered_under_the_new_secret_only(scene, device, warm):
    old_secret = device.secret
    new = gate_device_replace_credentials(
        device=device, actor=UserFactory(is_superuser=True)
    ).secret
    assert warm.handle(*request(device, scene.badge_uid, secret=old_secret)) == []
    reply = reply_to(warm.handle(*request(device, scene.badge_uid, secret=new)), device, new)
    assert reply.allowed
    # And the old Pi, once more, against the bridge that now holds the new secret.
    assert warm.handle(*request(device, scene.badge_uid, secret=old_secret)) == []


def test_a_gate_moved_to_another_machine_decides_for_that_machine(scene, device, warm):
    elsewhere = MachineFactory()
    GateDevice.objects.filter(pk=device.pk).update(machine=elsewhere)
    reply = reply_to(warm.handle(*request(device, scene.badge_uid)), device)
    assert (reply.allowed, reply.reason) == (False, "no_booking_now")
    assert AccessEvent.objects.filter(source=AccessSource.GATE).latest("pk").machine == elsewhere


def test_a_replayed_request_is_refused_by_a_warm_bridge_and_by_a_cold_one(scene, device, warm):
    """The same signed request again (a replay, or MQTT delivering it twice) gets no reply and
    no second event: the access log's nonce per gate says it was answered."""
    scan = request(device, scene.badge_uid)
    assert reply_to(warm.handle(*scan), device).allowed
    assert warm.handle(*scan) == []
    assert warm.handle(*scan) == []
    assert GateBridge().handle(*scan) == []
    nonce = p.BadgeRequest.from_json(scan[1]).nonce
    assert AccessEvent.objects.filter(request_nonce=nonce).count() == 1
    # The next scan is answered as ever.
    assert reply_to(warm.handle(*request(device, scene.badge_uid)), device).allowed


def test_a_gate_enabled_again_is_answered_again(scene, device, warm):
    GateDevice.objects.filter(pk=device.pk).update(enabled=False, disabled_reason="Stolen")
    assert warm.handle(*request(device, scene.badge_uid)) == []
    GateDevice.objects.filter(pk=device.pk).update(enabled=True, disabled_reason="")
    assert reply_to(warm.handle(*request(device, scene.badge_uid)), device).allowed
