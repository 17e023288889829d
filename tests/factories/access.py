"""Factories for the access app: gate devices with real credentials."""

from __future__ import annotations

import uuid

import factory

from access.broker import mosquitto_password_hash
from access.models import GateDevice
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
