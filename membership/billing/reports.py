"""The staff's daily takings: per payment method, on screen and as CSV (one row per entry)."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from core.money import from_minor
from core.spreadsheet import spreadsheet_cell
from core.time import local_day_bounds
from membership.billing import selectors
from staffing.selectors import Scope
from staffing.shortcuts import staff_place


def _day(request) -> date:
    try:
        return date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.localdate()


@login_required
@permission_required("membership.record_payment", raise_exception=True)
def takings(request):
    # One location's day on its own clock (23 or 25 hours on a clock change), with the members
    # whose home it is: the location asked for among those where the viewer is staff.
    place = staff_place(request)
    day = _day(request)
    start, end = local_day_bounds(day, timezone.get_current_timezone())
    scope = place.scope
    if request.GET.get("format") == "csv":
        return _csv(day, start, end, scope)
    return render(
        request,
        "membership/staff/takings.html",
        {
            "place": place,
            "day": day,
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "rows": selectors.takings_between(start, end, scope=scope),
            "entries": selectors.ledger_between(start, end, scope=scope),
        },
    )


def _csv(day: date, start: datetime, end: datetime, scope: Scope) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="takings-{day.isoformat()}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["time", "member", "email", "kind", "method", "amount", "currency", "minor units",
         "stripe object", "recorded by", "note"]
    )  # fmt: skip
    for entry in selectors.ledger_between(start, end, scope=scope):
        writer.writerow(
            [
                timezone.localtime(entry.occurred_at).isoformat(timespec="seconds"),
                entry.member.display_name,
                entry.member.user.email,
                entry.get_kind_display(),
                entry.get_method_display(),
                str(from_minor(entry.amount_minor, entry.currency)),
                entry.currency.upper(),
                entry.amount_minor,
                entry.stripe_object_id,
                str(entry.recorded_by or ""),
                spreadsheet_cell(entry.memo),
            ]
        )
    return response
