"""Factories for the access app: gate devices with real credentials, access events, sessions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import factory
from django.utils import timezone

from access.broker import mosquitto_password_hash
from access.models import AccessEvent, AccessSource, GateDevice, UsageSession
from gate_agent import protocol
from tests.factories.equipment import MachineFactory

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
