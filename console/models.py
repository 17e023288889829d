"""The reports' rollup: booked and powered seconds per machine per real (UTC) hour."""

from __future__ import annotations

from datetime import timedelta

from django.db import models

# Sessions uploaded late (a gate back online) and bookings marked late change recent hours: each
# rollup run recounts this far back before the last run's mark, and the reports count this much
# of the recent past live rather than from the day rollups.
ROLLUP_LOOKBACK = timedelta(hours=48)
ROLLUP_MARK = "reports"


class MachineHour(models.Model):
    """One machine's booked and powered time in one hour, kept by the task runner
    (`console.tasks.rollup_utilization`) so the reports sum a few rows in SQL instead of
    splitting millions of bookings and sessions into hours on every request.

    Hours are real UTC hours: the night the clocks fall back has 25 local hours and the
    report's weekday x hour map counts both 01:00s in its 01:00 cell.
    """

    machine = models.ForeignKey("equipment.Machine", on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField(help_text="The hour's start, UTC.")
    booked_seconds = models.PositiveIntegerField(default=0)
    powered_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["machine", "hour"], name="machine_hour_once"),
            models.CheckConstraint(
                condition=models.Q(booked_seconds__lte=3600, powered_seconds__lte=3600),
                name="machine_hour_at_most_an_hour",
            ),
        ]
        indexes = [models.Index(fields=["hour", "machine"])]

    def __str__(self) -> str:
        return f"{self.machine_id} @ {self.hour:%Y-%m-%d %H:00}Z"


# The local wall-clock hours of a day, for `MachineDay.powered_<hh>`.
DAY_HOURS = range(24)


def powered_field(hour: int) -> str:
    return f"powered_{hour:02}"


class MachineDay(models.Model):
    """One machine's local day (in its location's zone): the coarser rollup the reports read, kept
    by the same task as `MachineHour` and recounted from it, so a report over months sums a few
    thousand rows instead of hundreds of thousands of hours.

    Booked and powered seconds, the powered seconds per local wall-clock hour (the night the
    clocks go back adds both 01:00s to `powered_01`), and the bookings that started that day
    with cancellations in good time left out: how many, how many no-shows, late cancellations.
    """

    machine = models.ForeignKey("equipment.Machine", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="The local date, in the machine's location's zone.")
    booked_seconds = models.PositiveIntegerField(default=0)
    powered_seconds = models.PositiveIntegerField(default=0)
    for _hour in DAY_HOURS:
        locals()[powered_field(_hour)] = models.PositiveIntegerField(default=0)
    del _hour
    bookings = models.PositiveIntegerField(default=0)
    no_shows = models.PositiveIntegerField(default=0)
    late_cancellations = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["machine", "day"], name="machine_day_once"),
        ]
        indexes = [models.Index(fields=["day", "machine"])]

    def __str__(self) -> str:
        return f"{self.machine_id} @ {self.day}"


class MemberWeek(models.Model):
    """One member's bookings that started in one local week (Monday to Sunday, in the zone of the
    location the machines stand at), per location: how many (cancellations in good time left
    out), how many no-shows and late cancellations. The no-show report's per-member rollup."""

    member = models.ForeignKey("membership.Member", on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey("locations.Location", on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text="The local Monday.")
    bookings = models.PositiveIntegerField(default=0)
    no_shows = models.PositiveIntegerField(default=0)
    late_cancellations = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "location", "week"], name="member_week_once"),
        ]
        indexes = [models.Index(fields=["location", "week"])]

    def __str__(self) -> str:
        return f"{self.member_id} @ {self.location_id}, week of {self.week}"


class RollupMark(models.Model):
    """When the rollup task last finished (one row): every run recounts from the last run's mark
    minus the look-back, so a task runner that was down leaves no gap, and the reports take
    from the rollup only the days settled before it (the rest is counted live)."""

    name = models.CharField(max_length=40, unique=True)
    through = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} through {self.through:%Y-%m-%d %H:%M}Z"
