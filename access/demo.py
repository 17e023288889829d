"""Demo data of the access app: a gate on Laser cutter A that the terminal simulator can play."""

from __future__ import annotations

from access.broker import mosquitto_password_hash
from access.models import GateDevice
from equipment.models import Machine

DEMO_DEVICE_ID = "laser-a"
# Published on purpose so `make gate-demo` works out of the box; never reuse it for a real gate.
DEMO_GATE_SECRET = "demo-only-gate-secret-do-not-use-in-production"  # noqa: S105


def seed() -> list[str]:
    machine = Machine.objects.filter(slug="laser-a").first()
    if machine is None:
        return []
    GateDevice.objects.get_or_create(
        device_id=DEMO_DEVICE_ID,
        defaults={
            "machine": machine,
            "secret": DEMO_GATE_SECRET,
            "mqtt_username": f"gate-{DEMO_DEVICE_ID}",
            "mqtt_password_hash": mosquitto_password_hash(DEMO_GATE_SECRET),
        },
    )
    return [
        f"Demo gate {DEMO_DEVICE_ID!r} on {machine}: with `make run` going, `make gate-demo` runs",
        "a simulated gate; book Laser cutter A as maker@toolgate.test, then type 04A32B1C.",
    ]
