"""The outbox's retry schedule: a gate back online gets what it missed at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from access import outbox
from access.models import DeliveryState, GateMessage
from gate_agent import protocol as p
from tests.factories.access import GateDeviceFactory


def switch_off(device, now):
    return outbox.outbox_command(
        device=device,
        action=p.ACTION_SWITCH_OFF,
        reason="emergency_stop",
        message="Emergency stop",
        now=now,
    )


def test_a_gate_back_online_is_sent_at_once_what_waited_for_a_retry(scene):
    """Whether the broker took a message (waiting for the gate's ack) or refused it (waiting
    to be published again), a gate that comes back online gets it now, not at its next retry."""
    now = timezone.now()
    device = GateDeviceFactory(machine=scene.machine)
    took, refused = switch_off(device, now), switch_off(device, now)
    assert {item.message_pk for item in outbox.outbox_claim(now=now)} == {took.pk, refused.pk}
    outbox.outbox_sent(delivered=[took.pk], failed={refused.pk: "broker gone"}, now=now)
    later = now + timedelta(milliseconds=500)
    assert outbox.outbox_claim(now=later) == []  # both wait for their retry
    outbox.outbox_gate_back(device=device, now=later)
    assert [item.message_pk for item in outbox.outbox_claim(now=later)] == [took.pk, refused.pk]
    assert set(GateMessage.objects.values_list("state", flat=True)) == {
        DeliveryState.DELIVERED,
        DeliveryState.QUEUED,
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_list_being_built_by_a_bridge_does_not_stand_for_a_change_made_meanwhile(scene):
    """A bridge's claim builds the waiting list in its transaction; a member who lapses before
    it commits gets a list of their own queued, not folded into the one that may still list
    them."""
    device = GateDeviceFactory(machine=scene.machine)
    [waiting] = outbox.outbox_allowlist(devices=[device])
    claimed, release = threading.Event(), threading.Event()

    def bridge() -> None:
        try:
            with transaction.atomic():
                assert [item.message_pk for item in outbox.outbox_claim()] == [waiting.pk]
                claimed.set()
                release.wait(20)
        finally:
            connection.close()

    thread = threading.Thread(target=bridge)
    thread.start()
    try:
        assert claimed.wait(20)
        [queued] = outbox.outbox_allowlist(devices=[device])
    finally:
        release.set()
        thread.join(20)
    assert queued.pk != waiting.pk
    assert GateMessage.objects.get(pk=queued.pk).payload == ""
