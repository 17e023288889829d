"""Reports for staff: each a chart beside the table of its numbers, and the numbers as CSV."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from console import charts, reports
from console.views import staff_required


def _weeks(request) -> int:
    try:
        return min(max(int(request.GET.get("weeks", 12)), 1), 52)
    except ValueError:
        return 12


@login_required
@staff_required
@require_GET
def report_list(request):
    return render(request, "console/reports.html")


@login_required
@staff_required
@require_GET
def utilization(request):
    weeks = _weeks(request)
    report = reports.utilization(weeks=weeks)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv")
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="utilization-{stamp}.csv"'
        csv.writer(response).writerows(reports.utilization_csv_rows(report))
        return response
    series = lambda uses: [  # noqa: E731
        ("Booked", [u.booked_hours for u in uses]),
        ("Powered", [u.powered_hours for u in uses]),
    ]
    return render(
        request,
        "console/utilization.html",
        {
            "report": report,
            "weeks": weeks,
            "machine_chart": charts.bar_chart(
                title="Booked and powered hours per machine",
                labels=[u.label for u in report.machines],
                series=series(report.machines),
            ),
            "week_chart": charts.bar_chart(
                title="Booked and powered hours per week, all machines",
                labels=[u.label for u in report.weeks],
                series=series(report.weeks),
            ),
            "heat_chart": charts.heat_map(
                title="Powered hours by weekday and hour",
                rows=reports.WEEKDAYS,
                columns=[f"{h:02d}" for h in range(24)],
                values=report.heat,
            ),
            "heat_rows": list(zip(reports.WEEKDAYS, report.heat, strict=True)),
            "hour_labels": [f"{h:02d}" for h in range(24)],
        },
    )
