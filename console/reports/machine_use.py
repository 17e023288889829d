"""Report aggregates, summed in SQL from the day rollup (`MachineDay`) or the hourly one
(`MachineHour`) in a fixed number of queries whatever the data; weeks and hours are the space's
local ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet, Sum
from django.utils import timezone

from console.models import DAY_HOURS, MachineDay, MachineHour, powered_field
from console.reports.common import settled_day
from core.time import local_midnight, week_start
from equipment.models import Machine, MachineState
from locations.models import Location

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
    live: bool = False,
) -> Utilization:
    """Booked vs powered hours per machine and per local week (Monday to Sunday) over the
    `weeks` weeks ending with `until`'s week, and powered hours by local weekday and hour.

    Summed from the day rollup (`MachineDay`, recounted from the hourly one in the same
    transaction, so always equal to it) once the rollup task has run and the machines' zone is
    the report's; else, or `live`, from the hourly rollup (`MachineHour`)."""
    zone = timezone.get_current_timezone()
    last_week = week_start(until or timezone.localdate())
    first_day = last_week - timedelta(weeks=weeks - 1)
    end_day = last_week + timedelta(days=7)
    machines = Machine.objects.exclude(state=MachineState.RETIRED) if machines is None else machines
    sums = {"booked": Sum("booked_seconds"), "powered": Sum("powered_seconds")}
    rolled = not live and (
        settled_day(Location.objects.filter(machines__in=machines), timezone.now()) is not None
    )
    if rolled:
        rows = MachineDay.objects.filter(day__gte=first_day, day__lt=end_day, machine__in=machines)
    else:
        rows = MachineHour.objects.filter(
            hour__gte=local_midnight(first_day, zone),
            hour__lt=local_midnight(end_day, zone),
            machine__in=machines,
        )

    per_machine = {r["machine"]: r for r in rows.values("machine").annotate(**sums)}
    machine_uses = [
        Use(
            machine.name,
            _hours(per_machine.get(machine.pk, {}).get("booked")),
            _hours(per_machine.get(machine.pk, {}).get("powered")),
        )
        for machine in machines.order_by("name")
    ]

    # Per local day (or real hour) over all the machines, then its week, weekday and hour in
    # Python: one pass for the weeks and the heat map, in whole seconds until the end. The night
    # the clocks go back puts both 01:00s in the 01:00 cell.
    by_week: dict[date, list[int]] = {}
    heat_seconds = [[0] * 24 for _ in WEEKDAYS]
    if rolled:
        hourly = {powered_field(h): Sum(powered_field(h)) for h in DAY_HOURS}
        for r in rows.values("day").annotate(**sums, **hourly):
            totals = by_week.setdefault(week_start(r["day"]), [0, 0])
            totals[0] += r["booked"] or 0
            totals[1] += r["powered"] or 0
            for h in DAY_HOURS:
                heat_seconds[r["day"].weekday()][h] += r[powered_field(h)] or 0
    else:
        for r in rows.values("hour").annotate(**sums):
            local = timezone.localtime(r["hour"], zone)
            totals = by_week.setdefault(week_start(local.date()), [0, 0])
            totals[0] += r["booked"] or 0
            totals[1] += r["powered"] or 0
            heat_seconds[local.weekday()][local.hour] += r["powered"] or 0
    heat = [[_hours(v) for v in day] for day in heat_seconds]
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
