"""The reports' rollup: booked and powered seconds per machine per real (UTC) hour."""

from __future__ import annotations

from django.db import models


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
