"""The outbox's retry schedule: a gate back online gets what it missed at once."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access import outbox
from access.models import AccessSource, DeliveryState, GateMessage
from access.services import access_decide
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


def test_a_gates_commands_go_in_the_order_they_were_queued_after_an_outage(scene):
    """A switch-off that failed while the broker was down waits for its retry; the commands
    queued after it, due at once, must not reach the gate first: the older one goes again,
    ahead of them, in the same round."""
    now = timezone.now()
    device, other = GateDeviceFactory(machine=scene.machine), GateDeviceFactory()
    first, elsewhere = switch_off(device, now), switch_off(other, now)
    outbox.outbox_claim(now=now)
    outbox.outbox_sent(
        delivered=[], failed={first.pk: "broker gone", elsewhere.pk: "broker gone"}, now=now
    )
    then = switch_off(device, now)

    claimed = [item.message_pk for item in outbox.outbox_claim(now=now)]
    assert claimed == [first.pk, then.pk]  # the other gate's failed one keeps its retry


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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_scan_at_a_gate_whose_list_a_bridge_is_building_is_not_held_up(scene):
    """The claim locks the gates whose lists it builds as an UPDATE would (NO KEY): a scan's
    access event, which names the gate, is written meanwhile. A stronger lock made the scan
    wait for the claim, and the two deadlocked over the booking it checks in."""
    device = GateDeviceFactory(machine=scene.machine)
    outbox.outbox_allowlist(devices=[device])
    claimed, release = threading.Event(), threading.Event()

    def bridge() -> None:
        try:
            with transaction.atomic():
                assert outbox.outbox_claim()
                claimed.set()
                release.wait(20)
        finally:
            connection.close()

    thread = threading.Thread(target=bridge)
    thread.start()
    try:
        assert claimed.wait(20)
        with connection.cursor() as cursor:  # waiting for a lock fails at once instead
            cursor.execute("SET lock_timeout = '2s'")
        result = access_decide(
            badge_uid=scene.badge_uid,
            machine=scene.machine,
            source=AccessSource.GATE,
            device=device,
        )
    finally:
        release.set()
        thread.join(20)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert result.decision.allowed


@pytest.mark.postgres
def test_every_writer_of_several_outbox_rows_locks_them_in_id_order_first(scene):
    """Two bridges, one recording a publish round and the other gates' acks over the same
    rows, deadlocked when each took its row locks in its own order; PostgreSQL broke it after a
    second, and the acks it cost were recorded that much late (the soak). Each writer now locks
    what it will write in one statement, in id order, before writing."""
    now = timezone.now()
    device = GateDeviceFactory(machine=scene.machine)
    stop = switch_off(device, now)
    empty = p.AllowList(
        device_id=device.device_id, version=1, issued_at=0, valid_until=0, entries=()
    )
    older = outbox.outbox_signed_allowlist(device=device, allowlist=empty)
    outbox.outbox_signed_allowlist(device=device, allowlist=empty)
    writers = {
        "a publish round": lambda: outbox.outbox_sent(delivered=[stop.pk, older.pk], failed={}),
        "acks": lambda: outbox.outbox_acknowledged(
            acks=[
                (
                    device,
                    p.Ack(
                        device_id=device.device_id,
                        sent_at=0,
                        command_ids=(stop.command_id,),
                        allowlist_version=1,
                    ),
                )
            ]
        ),
        "a gate back online": lambda: outbox.outbox_gate_back(device=device),
        "giving up": lambda: outbox.outbox_give_up(now=now + timedelta(days=30)),
        # building lists bumps each gate's version: the gates are locked in id order first
        "a claim": lambda: (
            outbox.outbox_allowlist(devices=[GateDeviceFactory(), device]),
            outbox.outbox_claim(now=timezone.now() + timedelta(minutes=1)),
        ),
    }
    for name, write in writers.items():
        with CaptureQueriesContext(connection) as queries:
            write()
        table = "access_gatedevice" if name == "a claim" else "access_gatemessage"
        touching = [
            q["sql"]
            for q in queries
            if f'UPDATE "{table}"' in q["sql"] or f'FROM "{table}"' in q["sql"]
        ]
        first_write = next(
            (i for i, sql in enumerate(touching) if sql.startswith("UPDATE")), len(touching)
        )
        locks = [sql for sql in touching[:first_write] if "FOR " in sql]
        # values_list("pk") orders by its first column, the id; NO KEY as an UPDATE's own lock
        assert locks and all(
            re.search(r"ORDER BY 1 ASC FOR NO KEY UPDATE$", sql) for sql in locks
        ), name
