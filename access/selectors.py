"""Read-only views of the gates for the live staff page."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

from access.models import AccessEvent, GateDevice, UsageSession
from equipment.models import Machine


@dataclass(frozen=True)
class MachineLive:
    machine: Machine
    devices: list[GateDevice]
    session: UsageSession | None
    recent: list[AccessEvent]

    @property
    def online(self) -> bool:
        return any(device.online for device in self.devices)

    @property
    def relay_on(self) -> bool:
        return any(device.relay_on for device in self.devices)


def machines_live(*, recent_events: int = 5) -> list[MachineLive]:
    machines = Machine.objects.exclude(state="retired").prefetch_related(
        Prefetch("gate_devices", queryset=GateDevice.objects.filter(enabled=True))
    )
    open_sessions = {
        session.machine_id: session
        for session in UsageSession.objects.filter(ended_at__isnull=True)
        .select_related("member__user", "booking")
        .order_by("started_at")
    }
    live = []
    for machine in machines:
        recent = list(
            AccessEvent.objects.filter(machine=machine)
            .exclude(source="allowlist")
            .select_related("member__user")[:recent_events]
        )
        live.append(
            MachineLive(
                machine, list(machine.gate_devices.all()), open_sessions.get(machine.pk), recent
            )
        )
    return live
