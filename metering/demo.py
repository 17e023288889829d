"""Demo data of metering: Laser cutter A is metered, the default plan includes ten hours of it a
month, and the demo maker has used some of them this month (their billing page shows it)."""

from __future__ import annotations

from datetime import timedelta

from access.models import GateDevice, UsageSession
from core import clock
from equipment.models import IncludedHours, Machine, MachineRate
from membership.models import Member, Plan

SESSIONS = [  # (id, started this long ago, hours)
    ("demo-laser-a-1", timedelta(days=2, hours=4), 3),
    ("demo-laser-a-2", timedelta(hours=27), 2.5),
]


def seed() -> list[str]:
    machine = Machine.objects.filter(slug="laser-a").first()
    if machine is None:
        return []
    now = clock.now()
    MachineRate.objects.get_or_create(
        machine=machine,
        defaults={
            "per_minute_minor": 50,
            "currency": "usd",
            "step_minutes": 15,
            "minimum_minor": 500,
            "metered_since": now - timedelta(days=90),
        },
    )
    plan = Plan.objects.filter(is_default=True).first()
    if plan is not None:
        IncludedHours.objects.get_or_create(plan=plan, machine=machine, defaults={"hours": 10})
    maker = Member.objects.filter(user__email="maker@toolgate.test").first()
    device = GateDevice.objects.filter(machine=machine).first()
    if maker is not None and device is not None:
        for session_id, ago, hours in SESSIONS:
            started = now - ago
            UsageSession.objects.get_or_create(
                session_id=session_id,
                defaults={
                    "device": device,
                    "machine": machine,
                    "member": maker,
                    "grant_reason": "allowed_booking",
                    "started_at": started,
                    "grant_end": started + timedelta(hours=hours),
                    "ended_at": started + timedelta(hours=hours),
                    "end_reason": "grant_expired",
                },
            )
    return [
        f"Metered: {machine} at $0.50 a minute (15-minute steps, $5 minimum), 10 h a month "
        "included in the default plan; maker@toolgate.test's billing page shows this month's use."
    ]
