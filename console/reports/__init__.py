"""Report aggregates for staff, each summed in SQL in a fixed number of queries whatever the
data, in the current time zone (the report's location's: the view activates it)."""

from console.reports.certifications import Pipeline, pipeline, pipeline_csv_rows
from console.reports.finances import Money, major, money, money_csv_rows
from console.reports.machine_use import (
    WEEKDAYS,
    Use,
    Utilization,
    utilization,
    utilization_csv_rows,
)
from console.reports.membership import MembersReport, members, members_csv_rows
from console.reports.no_shows import Attendance, attendance, attendance_csv_rows

__all__ = [
    "WEEKDAYS", "Attendance", "MembersReport", "Money", "Pipeline", "Use", "Utilization",
    "attendance", "attendance_csv_rows", "major", "members", "members_csv_rows", "money",
    "money_csv_rows", "pipeline", "pipeline_csv_rows", "utilization", "utilization_csv_rows",
]  # fmt: skip
