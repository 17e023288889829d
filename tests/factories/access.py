"""Factories for the access app: gate devices with real credentials, access events, sessions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import factory
from django.utils import timezone

from access.broker import mosquitto_password_hash
from access.models import (
    AccessEvent,
    AccessSource,
    DeliveryState,
    EmergencyStop,
    GateAlarm,
    GateChange,
    GateChangeKind,
    GateDevice,
    GateMessage,
    GateMessageKind,
    UsageSession,
)
from gate_agent import protocol
from tests.factories.equipment import MachineFactory
from tests.factories.membership import UserFactory

DEVICE_MQTT_PASSWORD = "gate-mqtt-password"


class GateDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GateDevice

    machine = factory.SubFactory(MachineFactory)
    device_id = factory.LazyFunction(lambda: f"gate-{uuid.uuid4().hex[:10]}")
    secret = factory.LazyFunction(protocol.new_device_secret)
    mqtt_username = factory.LazyAttribute(lambda o: f"gate-{o.device_id}")
    mqtt_password_hash = factory.LazyFunction(lambda: mosquitto_password_hash(DEVICE_MQTT_PASSWORD))


class AccessEventFactory(factory.django.DjangoModelFactory):
    """A refused scan at a gate by an unknown badge, unless told otherwise."""

    class Meta:
        model = AccessEvent

    machine = factory.SubFactory(MachineFactory)
    source = AccessSource.GATE
    badge_uid = "DEADBEEF"
    allowed = False
    reason = "unknown_badge"


class UsageSessionFactory(factory.django.DjangoModelFactory):
    """An hour on the device's machine that ended when its grant did."""

    class Meta:
        model = UsageSession

    session_id = factory.LazyFunction(lambda: uuid.uuid4().hex)
    device = factory.SubFactory(GateDeviceFactory)
    machine = factory.SelfAttribute("device.machine")
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=2))
    ended_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(hours=1))
    end_reason = "grant_expired"


class GateMessageFactory(factory.django.DjangoModelFactory):
    """A switch-off command in the gate's outbox, delivered and acknowledged."""

    class Meta:
        model = GateMessage

    device = factory.SubFactory(GateDeviceFactory)
    kind = GateMessageKind.COMMAND
    action = "switch_off"
    reason = "booking_cancelled"
    message = "Your booking was cancelled"
    command_id = factory.LazyFunction(lambda: uuid.uuid4().hex)
    state = DeliveryState.ACKNOWLEDGED
    attempts = 1
    give_up_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=12))


class EmergencyStopFactory(factory.django.DjangoModelFactory):
    """Staff pressed the machine's emergency stop; not cleared yet."""

    class Meta:
        model = EmergencyStop

    machine = factory.SubFactory(MachineFactory)
    pressed_by = factory.SubFactory(UserFactory)


class GateChangeFactory(factory.django.DjangoModelFactory):
    """Staff disabling the gate, with their reason."""

    class Meta:
        model = GateChange

    device = factory.SubFactory(GateDeviceFactory)
    kind = GateChangeKind.DISABLED
    reason = "Reader replaced"
    actor = factory.SubFactory(UserFactory)


class GateAlarmFactory(factory.django.DjangoModelFactory):
    """A welded contactor reported by the device's gate."""

    class Meta:
        model = GateAlarm

    device = factory.SubFactory(GateDeviceFactory)
    machine = factory.SelfAttribute("device.machine")
    at = factory.LazyFunction(timezone.now)
    reason = "current_while_off"
    gate_event_id = factory.LazyFunction(protocol.new_nonce)
