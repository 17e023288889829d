"""Reports for staff: each a chart beside the table of its numbers, and the numbers as CSV.

One view serves them all (`report_page`, given a `Report` by the URL): it picks the location
(`?location=`, among those where the viewer is staff; the default location, else the first by
name, when none is asked) and activates its clock, reads how far back to look, counts the
figures for that location and renders them, or writes them as CSV. What differs per report is
in its `Report`: how it counts, what its charts are, its CSV rows."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET

from console import charts, reports
from console.views import staff_required
from equipment.models import Machine, MachineState
from staffing.selectors import Scope
from staffing.shortcuts import staff_place


@dataclass(frozen=True)
class Length:
    """How far back a report looks, from `?<name>=`: whole weeks, months or days, 1 to `largest`."""

    name: str
    default: int
    largest: int

    def read(self, request) -> int:
        try:
            return min(max(int(request.GET.get(self.name, self.default)), 1), self.largest)
        except ValueError:
            return self.default


WEEKS = Length("weeks", 12, 52)
MONTHS = Length("months", 12, 24)
DAYS = Length("days", 30, 92)


@dataclass(frozen=True)
class Report:
    """One report: `count(scope=, <length>=...)` reads its figures, `charts(figures)` gives the
    page's charts and rows beside them, `csv_rows(figures)` the CSV (`<csv_name>-<date>.csv`).
    `permission`: a permission needed on top of the Staff role."""

    template: str
    csv_name: str
    lengths: tuple[Length, ...]
    count: Callable[..., Any]
    charts: Callable[[Any], dict[str, Any]]
    csv_rows: Callable[[Any], list[list[str]]]
    permission: str | None = None


@login_required
@staff_required
@require_GET
def report_list(request):
    return render(request, "console/reports.html", {"place": staff_place(request)})


@login_required
@staff_required
@require_GET
def report_page(request, report: Report):
    if report.permission and not request.user.has_perm(report.permission):
        raise PermissionDenied
    place = staff_place(request)
    asked = {length.name: length.read(request) for length in report.lengths}
    figures = report.count(scope=place.scope, **asked)
    if request.GET.get("format") == "csv":
        return _csv(report.csv_name, report.csv_rows(figures))
    context = {"place": place, "report": figures, **asked, **report.charts(figures)}
    return render(request, report.template, context)


def _csv(name: str, rows: list[list[str]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    csv.writer(response).writerows(rows)
    return response


def _counts(title: str, labels: list[str], series: list[tuple[str, list[Any]]]) -> str:
    """A bar chart of whole numbers (members, bookings), not hours."""
    return charts.bar_chart(title=title, labels=labels, series=series, unit="", digits=0)


# Utilization: booked against powered hours.


def _utilization(*, scope: Scope, weeks: int) -> reports.Utilization:
    machines = scope.filter(Machine.objects.exclude(state=MachineState.RETIRED), "location")
    return reports.utilization(weeks=weeks, machines=machines)


def _use_series(uses: list[reports.Use]) -> list[tuple[str, list[float]]]:
    return [
        (gettext("Booked"), [u.booked_hours for u in uses]),
        (gettext("Powered"), [u.powered_hours for u in uses]),
    ]


def _utilization_charts(report: reports.Utilization) -> dict[str, Any]:
    hours = [f"{h:02d}" for h in range(24)]
    return {
        "machine_chart": charts.bar_chart(
            title=gettext("Booked and powered hours per machine"),
            labels=[u.label for u in report.machines],
            series=_use_series(report.machines),
        ),
        "week_chart": charts.bar_chart(
            title=gettext("Booked and powered hours per week, all machines"),
            labels=[u.label for u in report.weeks],
            series=_use_series(report.weeks),
        ),
        "heat_chart": charts.heat_map(
            title=gettext("Powered hours by weekday and hour"),
            rows=[str(name) for name in WEEKDAY_NAMES],
            columns=hours,
            values=report.heat,
        ),
        "heat_rows": list(zip([str(n) for n in WEEKDAY_NAMES], report.heat, strict=True)),
        "hour_labels": hours,
    }


UTILIZATION = Report(
    template="console/utilization.html",
    csv_name="utilization",
    lengths=(WEEKS,),
    count=_utilization,
    charts=_utilization_charts,
    csv_rows=reports.utilization_csv_rows,
)

# No-shows and late cancellations.

# Members shown in the no-show chart; the table and the CSV have every member who missed one.
CHART_MEMBERS = 15


def _misses_series(rows: list[Any]) -> list[tuple[str, list[int]]]:
    return [
        (gettext("No-shows"), [r.no_shows for r in rows]),
        (gettext("Late cancellations"), [r.late_cancellations for r in rows]),
    ]


NO_SHARE = "\N{EN DASH}"  # no bookings: no share of them


def _missed(member: Any) -> str:
    """ "2 no-shows, 1 late cancellation of 9 bookings", in the reader's language."""
    return gettext("%(no_shows)s, %(late)s of %(bookings)s") % {
        "no_shows": ngettext("%(count)s no-show", "%(count)s no-shows", member.no_shows)
        % {"count": member.no_shows},
        "late": ngettext(
            "%(count)s late cancellation", "%(count)s late cancellations", member.late_cancellations
        )
        % {"count": member.late_cancellations},
        "bookings": ngettext("%(count)s booking", "%(count)s bookings", member.bookings)
        % {"count": member.bookings},
    }


# The heat map's rows, in the reader's language (reports.WEEKDAYS, Monday first, for the CSV).
WEEKDAY_NAMES = [
    pgettext_lazy("weekday", "Mon"),
    pgettext_lazy("weekday", "Tue"),
    pgettext_lazy("weekday", "Wed"),
    pgettext_lazy("weekday", "Thu"),
    pgettext_lazy("weekday", "Fri"),
    pgettext_lazy("weekday", "Sat"),
    pgettext_lazy("weekday", "Sun"),
]


def _member_rows(report: reports.Attendance) -> tuple[SafeString, SafeString]:
    """The members' table rows and the list of those over the threshold, built here: a big
    space has thousands of members who missed one, and the template language (and even
    `format_html` per row) took seconds over them. The names and e-mails are escaped; the
    rest are numbers (`console/_misses_table.html` draws the same rows for the machines)."""
    flag = format_html(' <span class="pill late">{}</span>', gettext("Over threshold"))
    rows = "".join(
        f'<tr><th scope="row" class="wrap-anywhere">{escape(m.label)}'
        f'{flag if m.over_threshold else ""}</th><td class="num">{m.bookings}</td>'
        f'<td class="num">{m.no_shows}</td><td class="num">{m.late_cancellations}</td>'
        f'<td class="num">{NO_SHARE if m.missed_share is None else f"{m.missed_share}%"}</td></tr>'
        for m in report.members
    )
    over = "".join(
        f"<li><strong>{escape(m.label)}</strong> ({escape(m.email)}): {_missed(m)}</li>"
        for m in report.over_threshold
    )
    return mark_safe(rows), mark_safe(over)  # names and e-mails escaped above


def _no_show_charts(report: reports.Attendance) -> dict[str, Any]:
    top = report.members[:CHART_MEMBERS]
    member_rows, over_rows = _member_rows(report)
    return {
        "member_rows": member_rows,
        "over_rows": over_rows,
        "machine_chart": _counts(
            gettext("No-shows and late cancellations per machine"),
            [m.label for m in report.machines],
            _misses_series(report.machines),
        ),
        "member_chart": _counts(
            ngettext(
                "No-shows and late cancellations, the member who missed most",
                "No-shows and late cancellations, the %(count)s members who missed most",
                len(top),
            )
            % {"count": len(top)},
            [m.label for m in top],
            _misses_series(top),
        ),
    }


NO_SHOWS = Report(
    template="console/no_shows.html",
    csv_name="no-shows",
    lengths=(WEEKS,),
    count=reports.attendance,
    charts=_no_show_charts,
    csv_rows=reports.attendance_csv_rows,
)

# The certification pipeline.


def _pipeline_charts(report: reports.Pipeline) -> dict[str, Any]:
    windows = reports.certifications.EXPIRY_WINDOWS
    return {
        "demand_chart": _counts(
            gettext("Members waiting per certification"),
            [d.certification for d in report.demand],
            [
                (gettext("Asked for a class"), [d.requests for d in report.demand]),
                (gettext("On a class's waitlist"), [d.waitlisted for d in report.demand]),
            ],
        ),
        "held_chart": charts.bar_chart(
            title=gettext("Fill rate and pass rate per certification"),
            labels=[h.certification for h in report.held],
            series=[
                (gettext("Seats filled"), [h.fill_share or 0 for h in report.held]),
                (gettext("Passed"), [h.pass_share or 0 for h in report.held]),
            ],
            unit="%",
            digits=0,
        ),
        "expiring_chart": _counts(
            gettext("Certifications expiring within 30, 60 and 90 days"),
            [e.certification for e in report.expiring],
            [
                (
                    ngettext("%(days)s day", "%(days)s days", days) % {"days": days},
                    [e.within[i] for e in report.expiring],
                )
                for i, days in enumerate(windows)
            ],
        ),
        "windows": windows,
    }


CERTIFICATIONS = Report(
    template="console/certifications.html",
    csv_name="certifications",
    lengths=(WEEKS,),
    count=reports.pipeline,
    charts=_pipeline_charts,
    csv_rows=reports.pipeline_csv_rows,
)

# Members: active, new, churned; past due.


def _member_charts(report: reports.MembersReport) -> dict[str, Any]:
    labels = [f"{m.month:%b %Y}" for m in report.months]
    return {
        "active_chart": _counts(
            gettext("Members active at each month's end"),
            labels,
            [(gettext("Active"), [m.active for m in report.months])],
        ),
        "flow_chart": _counts(
            gettext("New and churned members per month"),
            labels,
            [
                (gettext("New"), [m.new for m in report.months]),
                (gettext("Churned"), [m.churned for m in report.months]),
            ],
        ),
    }


MEMBERS = Report(
    template="console/members.html",
    csv_name="members",
    lengths=(MONTHS,),
    count=reports.members,
    charts=_member_charts,
    csv_rows=reports.members_csv_rows,
)

# Money: takings and MRR, in each currency's major unit on the charts.


def _money_chart(
    title: str, what: str, currency: str, labels: list[str], amounts: list[int]
) -> str:
    return charts.bar_chart(
        title=f"{title} ({currency.upper()})",
        labels=labels,
        series=[(what, [reports.major(a, currency) for a in amounts])],
        unit=currency.upper(),
        digits=2,
    )


def _money_charts(report: reports.Money) -> dict[str, Any]:
    currencies = sorted({c for m in report.months for c in m.mrr} | set(report.mrr_now))
    month_labels = [f"{m.month:%b %Y}" for m in report.months]
    return {
        "takings": [
            {
                "takings": t,
                "day_chart": _money_chart(
                    gettext("Takings per day"),
                    gettext("Takings"),
                    t.currency,
                    [f"{d.day:%a %d %b}" for d in t.days],
                    [d.total for d in t.days],
                ),
                "kind_chart": _money_chart(
                    gettext("Takings per kind"),
                    gettext("Takings"),
                    t.currency,
                    t.kind_labels,
                    [t.by_kind[k] for k in t.kinds],
                ),
            }
            for t in report.takings
        ],
        "currencies": currencies,
        "mrr_rows": [(m.month, [(m.mrr.get(c, 0), c) for c in currencies]) for m in report.months],
        "mrr_charts": [
            _money_chart(
                gettext("MRR at each month's end"),
                "MRR",
                currency,
                month_labels,
                [m.mrr.get(currency, 0) for m in report.months],
            )
            for currency in currencies
        ],
    }


MONEY = Report(
    template="console/money.html",
    csv_name="money",
    lengths=(DAYS, MONTHS),
    count=reports.money,
    charts=_money_charts,
    csv_rows=reports.money_csv_rows,
    # What the daily takings page shows: for staff who may record payments.
    permission="membership.record_payment",
)
