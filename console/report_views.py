"""Reports for staff: each a chart beside the table of its numbers, and the numbers as CSV.

Each report is one location's (`?location=`, among those where the viewer is staff; the
default location, else the first by name, when none is asked), with its days and months on that location's clock."""

from __future__ import annotations

import csv
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from console import charts, reports
from console.views import staff_required
from equipment.models import Machine, MachineState
from locations.models import Location
from locations.zones import activate
from staffing.selectors import Scope, staff_scope

# The money report shows what the takings page shows: for staff who may record payments.
money_required = permission_required("membership.record_payment", raise_exception=True)


@dataclass(frozen=True)
class Place:
    """The locations the viewer may report on, the one shown (None: a space with no location
    set up yet) and the scope of the rows counted."""

    locations: list[Location]
    current: Location | None
    scope: Scope

    @property
    def param(self) -> str:
        """The location as a query string parameter for links ("" with only one to choose)."""
        return f"location={self.current.slug}" if self.current and len(self.locations) > 1 else ""


def _place(request) -> Place:
    scope = staff_scope(request.user)
    locations = list(scope.filter(Location.objects.open(), "pk").order_by("name"))
    asked = request.GET.get("location")
    # What was asked, else the default location (the first one), else the first by name.
    current = next((loc for loc in locations if loc.slug == asked), None) or next(
        (loc for loc in locations if loc.pk == scope.default_id),
        locations[0] if locations else None,
    )
    if current is None:
        return Place(locations, None, scope)
    activate(current)  # days, weeks and months on the location's clock
    return Place(locations, current, Scope(False, frozenset({current.pk}), scope.default_id))


def _number(request, name: str, default: int, largest: int) -> int:
    try:
        return min(max(int(request.GET.get(name, default)), 1), largest)
    except ValueError:
        return default


def _csv(name: str, rows: list[list[str]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    csv.writer(response).writerows(rows)
    return response


def _wants_csv(request) -> bool:
    return request.GET.get("format") == "csv"


@login_required
@staff_required
@require_GET
def report_list(request):
    return render(request, "console/reports.html", {"place": _place(request)})


@login_required
@staff_required
@require_GET
def utilization(request):
    place = _place(request)
    weeks = _number(request, "weeks", 12, 52)
    machines = place.scope.filter(Machine.objects.exclude(state=MachineState.RETIRED), "location")
    report = reports.utilization(weeks=weeks, machines=machines)
    if _wants_csv(request):
        return _csv("utilization", reports.utilization_csv_rows(report))
    series = lambda uses: [  # noqa: E731
        ("Booked", [u.booked_hours for u in uses]),
        ("Powered", [u.powered_hours for u in uses]),
    ]
    return render(
        request,
        "console/utilization.html",
        {
            "place": place,
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


# Members shown in the no-show chart; the table and the CSV have every member who missed one.
CHART_MEMBERS = 15


@login_required
@staff_required
@require_GET
def no_shows(request):
    place = _place(request)
    weeks = _number(request, "weeks", 12, 52)
    report = reports.attendance(weeks=weeks, scope=place.scope)
    if _wants_csv(request):
        return _csv("no-shows", reports.attendance_csv_rows(report))
    series = lambda rows: [  # noqa: E731
        ("No-shows", [r.no_shows for r in rows]),
        ("Late cancellations", [r.late_cancellations for r in rows]),
    ]
    top = report.members[:CHART_MEMBERS]
    return render(
        request,
        "console/no_shows.html",
        {
            "place": place,
            "report": report,
            "weeks": weeks,
            "machine_chart": charts.bar_chart(
                title="No-shows and late cancellations per machine",
                labels=[m.label for m in report.machines],
                series=series(report.machines),
                unit="",
                digits=0,
            ),
            "member_chart": charts.bar_chart(
                title=f"No-shows and late cancellations, the {len(top)} members who missed most",
                labels=[m.label for m in top],
                series=series(top),
                unit="",
                digits=0,
            ),
        },
    )


@login_required
@staff_required
@require_GET
def certifications(request):
    place = _place(request)
    weeks = _number(request, "weeks", 12, 52)
    report = reports.pipeline(weeks=weeks, scope=place.scope)
    if _wants_csv(request):
        return _csv("certifications", reports.pipeline_csv_rows(report))
    return render(
        request,
        "console/certifications.html",
        {
            "place": place,
            "report": report,
            "weeks": weeks,
            "demand_chart": charts.bar_chart(
                title="Members waiting per certification",
                labels=[d.certification for d in report.demand],
                series=[
                    ("Asked for a class", [d.requests for d in report.demand]),
                    ("On a class's waitlist", [d.waitlisted for d in report.demand]),
                ],
                unit="",
                digits=0,
            ),
            "held_chart": charts.bar_chart(
                title="Fill rate and pass rate per certification",
                labels=[h.certification for h in report.held],
                series=[
                    ("Seats filled", [h.fill_share or 0 for h in report.held]),
                    ("Passed", [h.pass_share or 0 for h in report.held]),
                ],
                unit="%",
                digits=0,
            ),
            "expiring_chart": charts.bar_chart(
                title="Certifications expiring within 30, 60 and 90 days",
                labels=[e.certification for e in report.expiring],
                series=[
                    (f"{days} days", [e.within[i] for e in report.expiring])
                    for i, days in enumerate(reports.certifications.EXPIRY_WINDOWS)
                ],
                unit="",
                digits=0,
            ),
            "windows": reports.certifications.EXPIRY_WINDOWS,
        },
    )


@login_required
@staff_required
@require_GET
def members(request):
    place = _place(request)
    months = _number(request, "months", 12, 24)
    report = reports.members(months=months, scope=place.scope)
    if _wants_csv(request):
        return _csv("members", reports.members_csv_rows(report))
    labels = [f"{m.month:%b %Y}" for m in report.months]
    return render(
        request,
        "console/members.html",
        {
            "place": place,
            "report": report,
            "months": months,
            "active_chart": charts.bar_chart(
                title="Members active at each month's end",
                labels=labels,
                series=[("Active", [m.active for m in report.months])],
                unit="",
                digits=0,
            ),
            "flow_chart": charts.bar_chart(
                title="New and churned members per month",
                labels=labels,
                series=[
                    ("New", [m.new for m in report.months]),
                    ("Churned", [m.churned for m in report.months]),
                ],
                unit="",
                digits=0,
            ),
        },
    )


@login_required
@staff_required
@money_required
@require_GET
def money(request):
    place = _place(request)
    days = _number(request, "days", 30, 92)
    months = _number(request, "months", 12, 24)
    report = reports.money(days=days, months=months, scope=place.scope)
    if _wants_csv(request):
        return _csv("money", reports.money_csv_rows(report))
    takings = [
        {
            "takings": t,
            "day_chart": charts.bar_chart(
                title=f"Takings per day ({t.currency.upper()})",
                labels=[f"{d.day:%a %d %b}" for d in t.days],
                series=[("Takings", [reports.major(d.total, t.currency) for d in t.days])],
                unit=t.currency.upper(),
                digits=2,
            ),
            "kind_chart": charts.bar_chart(
                title=f"Takings per kind ({t.currency.upper()})",
                labels=t.kind_labels,
                series=[("Takings", [reports.major(t.by_kind[k], t.currency) for k in t.kinds])],
                unit=t.currency.upper(),
                digits=2,
            ),
        }
        for t in report.takings
    ]
    currencies = sorted({c for m in report.months for c in m.mrr} | set(report.mrr_now))
    return render(
        request,
        "console/money.html",
        {
            "place": place,
            "report": report,
            "days": days,
            "months": months,
            "takings": takings,
            "currencies": currencies,
            "mrr_rows": [
                (m.month, [(m.mrr.get(c, 0), c) for c in currencies]) for m in report.months
            ],
            "mrr_charts": [
                charts.bar_chart(
                    title=f"MRR at each month's end ({currency.upper()})",
                    labels=[f"{m.month:%b %Y}" for m in report.months],
                    series=[
                        (
                            "MRR",
                            [
                                reports.major(m.mrr.get(currency, 0), currency)
                                for m in report.months
                            ],
                        )
                    ],
                    unit=currency.upper(),
                    digits=2,
                )
                for currency in currencies
            ],
        },
    )
