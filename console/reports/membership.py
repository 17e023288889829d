"""Members per local month: active at the month's end, new and churned in it; past due now.
Two grouped queries whatever the data (and one for the past-due list).

"Active" is a membership active or past due (it still opens machines in its grace period). A
month's end state is read from the membership's history (`MembershipChange`): the last change
before the month ended, else the state before the first change after it, else its state now;
members who had not joined yet do not count. "New" is a change into active or past due from
pending or cancelled (a member coming back counts again); "churned" a change out of them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from itertools import accumulate

from dateutil.relativedelta import relativedelta
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from console.reports.common import share
from core.spreadsheet import spreadsheet_cell
from core.time import local_midnight
from membership.models import Membership, MembershipChange, MembershipStatus
from membership.selectors import grace_ends
from staffing.selectors import EVERYWHERE, Scope

STANDING = (MembershipStatus.ACTIVE, MembershipStatus.PAST_DUE)


@dataclass(frozen=True)
class MemberMonth:
    month: date  # its first day
    active: int  # at the month's end (the current month: now)
    new: int
    churned: int
    active_before: int  # at the month's start

    @property
    def churn_share(self) -> int | None:
        return share(self.churned, self.active_before)


@dataclass(frozen=True)
class PastDue:
    name: str
    email: str
    plan: str
    paid_through: datetime | None
    grace_end: datetime | None


@dataclass(frozen=True)
class Standing:
    """Memberships in good standing at one moment, per currency: how many and their monthly
    prices' sum (MRR)."""

    at: datetime
    members: int
    mrr: dict[str, int]  # currency -> minor units


@dataclass(frozen=True)
class MembersReport:
    months: list[MemberMonth]
    past_due: list[PastDue]


def month_starts(months: int, until: date | None = None) -> list[date]:
    """The first days of the `months` local months ending with `until`'s (today's)."""
    last = (until or timezone.localdate()).replace(day=1)
    return [last - relativedelta(months=months - 1 - i) for i in range(months)]


def memberships_in(scope: Scope) -> QuerySet[Membership]:
    return scope.filter(Membership.objects.all(), "member__home_location")


def standing_at(moments: list[datetime], *, scope: Scope = EVERYWHERE) -> list[Standing]:
    """How many memberships were in good standing at each of `moments`, and their MRR, in two
    queries however many moments: the memberships, and their changes in time order.

    Each membership's history is cut into spans of one state ((previous change, next change]: a
    change counts for the moments after it); a span in good standing after the member joined
    adds the membership to the moments inside it, found by bisection (in SQL). The work grows
    with the changes, not with memberships x moments (correlated subqueries per moment took
    seconds at 5,000 members).
    """
    order = sorted(range(len(moments)), key=moments.__getitem__)
    times = [moments[i] for i in order]
    # Each change's and join's place among `times` (how many of them are not later: bisection
    # done by the database), so that no timestamp is loaded: parsing 10,000 of them was most of
    # the report's time at 5,000 members.
    history: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    changes = scope.filter(MembershipChange.objects.all(), "membership__member__home_location")
    for membership_id, at, before, after in (
        changes.annotate(at=_place(times, "created_at"))
        .order_by("membership_id", "created_at", "id")
        .values_list("membership_id", "at", "from_status", "to_status")
    ):
        history[membership_id].append((at, before, after))
    # Differences: +1 where a span starts counting, -1 where it stops; summed up afterwards.
    counted = [0] * (len(times) + 1)
    money: dict[str, list[int]] = defaultdict(lambda: [0] * (len(times) + 1))
    for pk, status, joined, currency, price in (
        memberships_in(scope)
        .annotate(joined=_place(times, "member__joined_at"))
        .values_list("pk", "status", "joined", "plan__currency", "plan__monthly_price_cents")
    ):
        for since, until, state in _spans(history.get(pk, []), status):
            if state not in STANDING:
                continue
            first = joined if since is None else max(since, joined)
            last = len(times) if until is None else until
            if first < last:
                counted[first] += 1
                counted[last] -= 1
                money[currency][first] += price
                money[currency][last] -= price
    members = list(accumulate(counted))
    mrr = {currency: list(accumulate(d)) for currency, d in money.items()}
    standing: list[Standing | None] = [None] * len(moments)
    for k, i in enumerate(order):
        totals = {currency: sums[k] for currency, sums in sorted(mrr.items()) if sums[k]}
        standing[i] = Standing(times[k], members[k], totals)
    return [s for s in standing if s is not None]


def _place(times: list[datetime], field: str) -> Case:
    """How many of the ascending `times` are not later than `field` (`bisect_right`), in SQL."""
    return Case(
        *(When(**{f"{field}__lt": t}, then=Value(k)) for k, t in enumerate(times)),
        default=Value(len(times)),
        output_field=IntegerField(),
    )


def _spans(
    changes: list[tuple[int, str, str]], status: str
) -> list[tuple[int | None, int | None, str]]:
    """A membership's states as (after, until, state), each a place among the moments (see
    `_place`): the state holds for the moments from `after` up to but not including `until`
    (None: unbounded). Before its first change it was in that change's `from` state; with no
    change at all, in the state it has now."""
    if not changes:
        return [(None, None, status)]
    spans: list[tuple[int | None, int | None, str]] = [(None, changes[0][0], changes[0][1])]
    for k, (at, _before, after) in enumerate(changes):
        spans.append((at, changes[k + 1][0] if k + 1 < len(changes) else None, after))
    return spans


def members(
    *, months: int = 12, until: date | None = None, scope: Scope = EVERYWHERE
) -> MembersReport:
    zone = timezone.get_current_timezone()
    firsts = month_starts(months, until)
    bounds = [local_midnight(first, zone) for first in firsts]
    now = timezone.now()
    ends = [*bounds[1:], min(local_midnight(firsts[-1] + relativedelta(months=1), zone), now)]
    standing = standing_at([bounds[0], *ends], scope=scope)
    flows = {
        _local_date(r["month"], zone): r
        for r in scope.filter(MembershipChange.objects.all(), "membership__member__home_location")
        .filter(created_at__gte=bounds[0], created_at__lt=ends[-1])
        .annotate(month=TruncMonth("created_at", tzinfo=zone))
        .values("month")
        .annotate(
            new=Count("id", filter=~Q(from_status__in=STANDING) & Q(to_status__in=STANDING)),
            churned=Count("id", filter=Q(from_status__in=STANDING) & ~Q(to_status__in=STANDING)),
        )
    }
    rows = []
    for i, first in enumerate(firsts):
        flow = flows.get(first, {})
        rows.append(
            MemberMonth(
                first, standing[i + 1].members, flow.get("new", 0), flow.get("churned", 0),
                standing[i].members,
            )
        )  # fmt: skip
    past_due = [
        PastDue(
            m.member.display_name, m.member.user.email, m.plan.name, m.current_period_end,
            grace_ends(m.current_period_end) if m.current_period_end else None,
        )
        for m in memberships_in(scope)
        .filter(status=MembershipStatus.PAST_DUE)
        .select_related("member__user", "plan")
        .order_by("current_period_end", "pk")
    ]  # fmt: skip
    return MembersReport(rows, past_due)


def _local_date(value: date | datetime, zone) -> date:
    """TruncMonth gives an aware datetime (PostgreSQL) or one in `zone` (SQLite): its local date."""
    if isinstance(value, datetime):
        return timezone.localtime(value, zone).date() if timezone.is_aware(value) else value.date()
    return value


def members_csv_rows(report: MembersReport) -> list[list[str]]:
    rows = [["section", "month", "active_at_end", "new", "churned", "churn_percent"]]
    for m in report.months:
        rows.append(
            ["month", f"{m.month:%Y-%m}", str(m.active), str(m.new), str(m.churned),
             "" if m.churn_share is None else str(m.churn_share)]
        )  # fmt: skip
    rows.append(["section", "member", "email", "plan", "paid_through", "machines_stop"])
    zone = timezone.get_current_timezone()
    for p in report.past_due:
        rows.append(
            ["past_due", spreadsheet_cell(p.name), spreadsheet_cell(p.email), p.plan,
             p.paid_through.astimezone(zone).isoformat(timespec="minutes") if p.paid_through else "",
             p.grace_end.astimezone(zone).isoformat(timespec="minutes") if p.grace_end else ""]
        )  # fmt: skip
    return rows
