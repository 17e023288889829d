"""Report aggregates, summed in SQL from the hourly rollup (`MachineHour`) in a fixed number of
queries whatever the data; weeks and hours are the space's local ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet, Sum
from django.utils import timezone

from console.models import MachineHour
from core.time import local_midnight, week_start
from equipment.models import Machine, MachineState

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@dataclass(frozen=True)
class Use:
    label: str
    booked_hours: float
    powered_hours: float

    @property
    def powered_share(self) -> int | None:
        """Powered time as a whole percentage of booked time; None with nothing booked."""
        if not self.booked_hours:
            return None
        return round(100 * self.powered_hours / self.booked_hours)


@dataclass(frozen=True)
class Utilization:
    first_day: date
    last_day: date  # inclusive
    machines: list[Use]
    weeks: list[Use]
    # heat[weekday 0 = Monday][local hour] = powered hours
    heat: list[list[float]]


def _hours(seconds: int | None) -> float:
    return round((seconds or 0) / 3600, 2)


def utilization(
    *,
    weeks: int = 12,
    until: date | None = None,
    machines: QuerySet[Machine] | None = None,
) -> Utilization:
    """Booked vs powered hours per machine and per local week (Monday to Sunday) over the
    `weeks` weeks ending with `until`'s week, and powered hours by local weekday and hour."""
    zone = timezone.get_current_timezone()
    last_week = week_start(until or timezone.localdate())
    first_day = last_week - timedelta(weeks=weeks - 1)
    end_day = last_week + timedelta(days=7)
    machines = Machine.objects.exclude(state=MachineState.RETIRED) if machines is None else machines
    rows = MachineHour.objects.filter(
        hour__gte=local_midnight(first_day, zone),
        hour__lt=local_midnight(end_day, zone),
        machine__in=machines,
    )
    sums = {"booked": Sum("booked_seconds"), "powered": Sum("powered_seconds")}

    per_machine = {r["machine"]: r for r in rows.values("machine").annotate(**sums)}
    machine_uses = [
        Use(
            machine.name,
            _hours(per_machine.get(machine.pk, {}).get("booked")),
            _hours(per_machine.get(machine.pk, {}).get("powered")),
        )
        for machine in machines.order_by("name")
    ]

    # Per real hour over all the machines (a few thousand rows), then its local date, week,
    # weekday and hour in Python: one pass over the rollup for the weeks and the heat map, and
    # the night the clocks go back puts both 01:00s in the 01:00 cell.
    by_week: dict[date, list[int]] = {}
    heat = [[0.0] * 24 for _ in WEEKDAYS]
    for r in rows.values("hour").annotate(**sums):
        local = timezone.localtime(r["hour"], zone)
        totals = by_week.setdefault(week_start(local.date()), [0, 0])
        totals[0] += r["booked"] or 0
        totals[1] += r["powered"] or 0
        heat[local.weekday()][local.hour] += (r["powered"] or 0) / 3600
    heat = [[round(v, 2) for v in day] for day in heat]
    week_uses = []
    for i in range(weeks):
        monday = first_day + timedelta(weeks=i)
        booked, powered = by_week.get(monday, [0, 0])
        week_uses.append(Use(f"{monday:%d %b}", _hours(booked), _hours(powered)))

    return Utilization(first_day, end_day - timedelta(days=1), machine_uses, week_uses, heat)


def utilization_csv_rows(report: Utilization) -> list[list[str]]:
    rows = [["section", "label", "booked_hours", "powered_hours", "powered_percent_of_booked"]]
    for section, uses in (("machine", report.machines), ("week", report.weeks)):
        rows += [
            [section, u.label, f"{u.booked_hours:.2f}", f"{u.powered_hours:.2f}",
             "" if u.powered_share is None else str(u.powered_share)]
            for u in uses
        ]  # fmt: skip
    for weekday, hours in zip(WEEKDAYS, report.heat, strict=True):
        rows += [["hour", f"{weekday} {h:02d}:00", "", f"{v:.2f}", ""] for h, v in enumerate(hours)]
    return rows
