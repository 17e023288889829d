"""What a gate's own messages can make the bridge do: oversized payloads and repeated statuses."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from access import outbox
from access.bridge import GateBridge
from access.intake import ONLINE_ALLOWLIST_MIN_SECONDS, allowlist_after_online
from access.models import AccessEvent, AccessSource, GateDevice, GateMessage
from gate_agent import protocol as p
from tests.factories.access import GateDeviceFactory


@pytest.fixture
def device(scene) -> GateDevice:
    return GateDeviceFactory(machine=scene.machine)


def online(device: GateDevice) -> tuple[str, bytes]:
    status = p.Status(device_id=device.device_id, state=p.STATUS_ONLINE, firmware="1")
    return p.gate_topic(device.device_id, p.Topic.STATUS), status.to_json()


def allowlists(device) -> list[bytes]:
    """The allow-lists the bridge publishes to `device` now (built as it sends them)."""
    topic = p.gate_topic(device.device_id, p.Topic.ALLOWLIST)
    return [o.payload for o in outbox.outbox_claim() if o.topic == topic]


def test_an_oversized_message_is_dropped_before_any_database_work(
    device, django_assert_num_queries, caplog
):
    """A payload over the protocol's limit is logged and dropped unparsed; the messages next to
    it are handled as usual."""
    heartbeat = p.gate_topic(device.device_id, p.Topic.HEARTBEAT)
    with caplog.at_level(logging.WARNING), django_assert_num_queries(0):
        assert GateBridge().handle(heartbeat, b"{" * (4 << 20)) == []
    assert f"Dropped a {4 << 20}-byte message on '{heartbeat}'" in caplog.text
    GateBridge().handle_many([(heartbeat, b"x" * (p.MAX_PAYLOAD_BYTES + 1)), online(device)])
    assert len(allowlists(device)) == 1


def test_thirty_online_statuses_build_one_allow_list(scene, device):
    """Unsigned "online" statuses repeated by a gate's own user cost one allow-list (and one
    build's access-log rows), not thirty; each still records the gate as online."""
    bridge = GateBridge()
    built = 0
    for _ in range(30):
        GateDevice.objects.filter(pk=device.pk).update(online=False)
        assert bridge.handle(*online(device)) == []
        built += len(allowlists(device))  # a bridge sends between statuses
        device.refresh_from_db()
        assert device.online
    assert built == 1
    # One build decides the member's booking window once.
    assert AccessEvent.objects.filter(source=AccessSource.ALLOWLIST).count() == 1


def test_a_gate_online_again_after_the_interval_gets_a_fresh_list(device):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert allowlist_after_online(device)
        assert len(allowlists(device)) == 1
    with time_machine.travel(start + timedelta(seconds=ONLINE_ALLOWLIST_MIN_SECONDS - 1)):
        assert not allowlist_after_online(device)
    with time_machine.travel(start + timedelta(seconds=ONLINE_ALLOWLIST_MIN_SECONDS + 1)):
        assert allowlist_after_online(device)


def test_a_list_the_bridge_just_published_counts(device):
    """Housekeeping's refresh (or any other build) counts: the gate gets the retained list."""
    GateBridge().housekeeping()
    assert len(allowlists(device)) == 1
    assert GateBridge().handle(*online(device)) == []
    assert allowlists(device) == []


@pytest.mark.django_db(transaction=True)
def test_two_bridges_handling_the_same_status_build_one_list(scene):
    """Every bridge reads every status: the limit holds across bridges, in the database."""
    device = GateDeviceFactory(machine=scene.machine)
    ready = threading.Barrier(2)
    built: list[int] = []

    def bridge() -> None:
        try:
            ready.wait()
            GateBridge().handle(*online(device))
            built.append(GateMessage.objects.filter(device=device, kind="allowlist").count())
        finally:
            connection.close()

    threads = [threading.Thread(target=bridge) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert GateMessage.objects.filter(device=device, kind="allowlist").count() == 1
