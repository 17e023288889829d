"""A scene for gate tests: a laser cutter, and a member who may use it right now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from access import outbox
from bookings.models import Booking
from equipment.models import Machine
from gate_agent import protocol as p
from membership.models import Member
from tests.access.live import Gate
from tests.access.mosquitto import Mosquitto
from tests.factories.access import GateDeviceFactory
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.membership import ready_member


@dataclass
class Scene:
    machine: Machine
    member: Member
    booking: Booking

    @property
    def badge_uid(self) -> str:
        return self.member.badges.get(enabled=True).uid


def build_scene(*, booking_minutes: int = 60) -> Scene:
    laser = certification("Laser cutter")
    machine = MachineFactory(name="Laser cutter 1", slug="laser-1", required_certification=laser)
    member = ready_member()
    certify(member, laser)
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5)
    booking = BookingFactory(
        machine=machine, member=member, start=start, end=start + timedelta(minutes=booking_minutes)
    )
    return Scene(machine, member, booking)


@pytest.fixture
def scene(db) -> Scene:
    return build_scene()


def longer_on_the_grid(booking):
    """The booking moved onto the laser's 30-minute grid around now, and an end 30 min later."""
    now = timezone.localtime()
    start = now.replace(minute=now.minute // 30 * 30, second=0, microsecond=0)
    booking.start, booking.end = start, start + timedelta(hours=1)
    booking.blocked_until = booking.end
    booking.save()
    return booking.end + timedelta(minutes=30)


class Published:
    """What the bridge would publish from the outbox now: each look claims the due rows (as a
    bridge round does) and adds their topics and payloads to what was seen before."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes, bool]] = []

    def _refresh(self) -> list[tuple[str, bytes, bool]]:
        self.seen += [(o.topic, o.payload, o.retain) for o in outbox.outbox_claim()]
        return self.seen

    def __iter__(self):
        return iter(self._refresh())

    def __len__(self) -> int:
        return len(self._refresh())

    def __getitem__(self, index):
        return self._refresh()[index]

    def __bool__(self) -> bool:
        return bool(self._refresh())


@pytest.fixture
def published(db) -> Published:
    """What the site queued for the gates, as the bridge would publish it."""
    return Published()


def opened(published, device, message_type, topic: p.Topic, *, secret: str | None = None):
    """The messages of `message_type` published to `device`, checked against its secret."""
    return [
        p.parse_signed(
            message_type, payload, device_id=device.device_id, secret=secret or device.secret
        )
        for sent_topic, payload, _ in published
        if sent_topic == p.gate_topic(device.device_id, topic)
    ]


@pytest.fixture(params=[pytest.param("mosquitto", marks=pytest.mark.mosquitto)])
def broker(request, tmp_path, settings):
    """A private Mosquitto."""
    server = Mosquitto(tmp_path)
    server.start()
    settings.GATE_BROKER_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def gate_for(broker, tmp_path):
    gates = []

    def _start(machine, **hardware):
        device = GateDeviceFactory(machine=machine)
        gate = Gate(broker, device, tmp_path / f"state-{len(gates)}", **hardware)
        gates.append(gate)
        return gate

    yield _start
    for gate in gates:
        gate.close()
