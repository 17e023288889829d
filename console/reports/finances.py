"""Money: takings per local day and kind (the ledger, as the daily takings page reads it), and
MRR (the monthly prices of memberships in good standing) now per plan and at each month's end.
A fixed number of queries whatever the data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Sum
from django.utils import timezone

from console.reports.common import Period, days_until
from console.reports.membership import STANDING, memberships_in, month_starts, standing_at
from core.money import from_minor
from core.time import local_midnight
from membership.billing.models import LedgerEntry
from membership.billing.selectors import takings_per_day
from staffing.selectors import EVERYWHERE, Scope

KIND_LABELS = dict(LedgerEntry.Kind.choices)


@dataclass(frozen=True)
class Day:
    day: date
    by_kind: dict[str, int]  # kind -> minor units
    total: int


@dataclass(frozen=True)
class Takings:
    currency: str
    kinds: list[str]  # the kinds with any entry, in the ledger's order
    days: list[Day]  # every day of the period, empty ones too
    by_kind: dict[str, int]
    total: int

    @property
    def kind_labels(self) -> list[str]:
        return [KIND_LABELS.get(kind, kind) for kind in self.kinds]

    @property
    def rows(self) -> list[tuple[date, list[int | None], int]]:
        """Per day: the amount of each kind in `kinds` (None: no entry), and the day's total."""
        return [(d.day, [d.by_kind.get(k) for k in self.kinds], d.total) for d in self.days]

    @property
    def kind_totals(self) -> list[int]:
        return [self.by_kind[k] for k in self.kinds]


@dataclass(frozen=True)
class PlanMrr:
    plan: str
    currency: str
    members: int
    mrr: int


@dataclass(frozen=True)
class MrrMonth:
    month: date
    mrr: dict[str, int]  # at the month's end (the current month: now)


@dataclass(frozen=True)
class Money:
    period: Period
    takings: list[Takings]  # one per currency
    plans: list[PlanMrr]
    months: list[MrrMonth]

    @property
    def mrr_now(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for p in self.plans:
            totals[p.currency] += p.mrr
        return dict(totals)


def money(
    *, days: int = 30, months: int = 12, until: date | None = None, scope: Scope = EVERYWHERE
) -> Money:
    zone = timezone.get_current_timezone()
    period = days_until(days, until)
    entries = takings_per_day(period.start, period.end, zone=zone, scope=scope)
    takings = []
    for currency in sorted({e.currency for e in entries}):
        mine = [e for e in entries if e.currency == currency]
        present = {e.kind for e in mine}
        kinds = [k for k in LedgerEntry.Kind.values if k in present]
        cells: dict[date, dict[str, int]] = defaultdict(dict)
        for e in mine:
            cells[e.day][e.kind] = e.total
        day_rows = []
        for i in range((period.last_day - period.first_day).days + 1):
            day = period.first_day + relativedelta(days=i)
            by_kind = cells.get(day, {})
            day_rows.append(Day(day, by_kind, sum(by_kind.values())))
        by_kind_total = {k: sum(e.total for e in mine if e.kind == k) for k in kinds}
        takings.append(
            Takings(currency, kinds, day_rows, by_kind_total, sum(by_kind_total.values()))
        )

    plans = [
        PlanMrr(r["plan__name"], r["plan__currency"], r["members"], r["mrr"] or 0)
        for r in memberships_in(scope)
        .filter(status__in=STANDING)
        .values("plan__name", "plan__currency")
        .annotate(members=Count("pk"), mrr=Sum("plan__monthly_price_cents"))
        .order_by("plan__currency", "-mrr", "plan__name")
    ]
    firsts = month_starts(months, until)
    now = timezone.now()
    ends = [min(local_midnight(first + relativedelta(months=1), zone), now) for first in firsts]
    standing = standing_at(ends, scope=scope)
    return Money(
        period, takings, plans, [MrrMonth(f, s.mrr) for f, s in zip(firsts, standing, strict=True)]
    )


def major(amount_minor: int, currency: str) -> float:
    """For a chart's bar length: the amount in the currency's major unit."""
    return float(from_minor(amount_minor, currency))


def money_csv_rows(report: Money) -> list[list[str]]:
    rows = [["section", "day_or_month", "kind_or_plan", "currency", "minor_units", "amount"]]
    for t in report.takings:
        for d in t.days:
            for kind in t.kinds:
                if kind in d.by_kind:
                    amount = d.by_kind[kind]
                    rows.append(["takings", d.day.isoformat(), kind, t.currency.upper(),
                                 str(amount), str(from_minor(amount, t.currency))])  # fmt: skip
    for p in report.plans:
        rows.append(["mrr_now", timezone.localdate().isoformat(), p.plan, p.currency.upper(),
                     str(p.mrr), str(from_minor(p.mrr, p.currency))])  # fmt: skip
    for m in report.months:
        for currency, amount in sorted(m.mrr.items()):
            rows.append(["mrr_month_end", f"{m.month:%Y-%m}", "", currency.upper(), str(amount),
                         str(from_minor(amount, currency))])  # fmt: skip
    return rows
