"""What metering reads: a machine's rate, a plan's included hours, and a member's machine time
this month priced as it accrues (the billing page's section)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from access.models import UsageSession
from core import clock
from equipment.models import IncludedHours, Machine, MachineRate
from membership.billing.sections import BillingSection
from membership.models import Member
from metering import rules

# Sessions that ended longer ago than this cannot reach into this month.
_LONGEST_MONTH = timedelta(days=31)


def rate_rules(rate: MachineRate) -> rules.Rate:
    return rules.Rate(
        per_minute_minor=rate.per_minute_minor,
        step_minutes=rate.step_minutes,
        minimum_minor=rate.minimum_minor,
        charge_instructors=rate.charge_instructors,
        charge_maintainers=rate.charge_maintainers,
    )


def included_seconds(member: Member, machine: Machine) -> int:
    """The machine time a month the member's plan includes, in seconds (0 without a plan)."""
    membership = getattr(member, "membership", None)
    if membership is None:
        return 0
    hours = (
        IncludedHours.objects.filter(plan_id=membership.plan_id, machine=machine)
        .values_list("hours", flat=True)
        .first()
    )
    return (hours or 0) * 3600


def session_grant(session: UsageSession) -> rules.Grant:
    return rules.session_grant(reason=session.grant_reason, booked=session.booking_id is not None)


def session_end_so_far(session: UsageSession, now: datetime) -> datetime:
    """A running session counts up to now, never past its grant (the gate stops there: a gate
    that crashed mid-session does not run up the bill while nobody hears from it)."""
    if session.ended_at is not None:
        return session.ended_at
    return min(now, session.grant_end) if session.grant_end else now


@dataclass(frozen=True)
class MachineUsage:
    """A member's time on one metered machine in this local month, priced so far."""

    machine: Machine
    currency: str
    time: timedelta  # charged kinds of time (booked, and staff time the rate charges)
    staff_time: timedelta  # staff time the rate does not charge
    included: timedelta  # what the plan includes
    included_used: timedelta
    charged_minutes: int
    amount_minor: int
    running: bool

    @property
    def included_left(self) -> timedelta:
        return max(self.included - self.included_used, timedelta(0))


def member_month_usage(member: Member, *, now: datetime | None = None) -> list[MachineUsage]:
    """This month's time on each metered machine the member used or their plan includes, as it
    would be charged if the month ended now (running sessions up to now)."""
    now = now or clock.now()
    sessions = (
        UsageSession.objects.filter(member=member, machine__rate__isnull=False, started_at__lt=now)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=now - _LONGEST_MONTH))
        .select_related("machine__location", "machine__rate")
        .order_by("started_at", "id")
    )
    parts: dict[Machine, list[tuple[rules.MonthPart, rules.Grant]]] = defaultdict(list)
    running: set[Machine] = set()
    for session in sessions:
        machine = session.machine
        if session.started_at < machine.rate.metered_since:
            continue
        zone = machine.location.zone
        this_month = rules.month_start(now, zone)
        end = session_end_so_far(session, now)
        for part in rules.month_parts(session.started_at, end, zone):
            if part.month == this_month:
                parts[machine].append((part, session_grant(session)))
                if session.ended_at is None:
                    running.add(machine)
    membership = getattr(member, "membership", None)
    if membership is not None:
        for allowance in IncludedHours.objects.filter(
            plan_id=membership.plan_id, machine__rate__isnull=False
        ).select_related("machine__location", "machine__rate"):
            parts.setdefault(allowance.machine, [])
    usage = []
    for machine, month_parts in parts.items():
        rate = rate_rules(machine.rate)
        included = included_seconds(member, machine)
        charges = rules.month_charges(
            [(part.seconds, grant) for part, grant in month_parts],
            rate=rate,
            included_seconds=included,
        )
        usage.append(
            MachineUsage(
                machine=machine,
                currency=machine.rate.currency,
                time=_seconds(c.seconds for c in charges if c.charged),
                staff_time=_seconds(c.seconds for c in charges if not c.charged),
                included=timedelta(seconds=included),
                included_used=_seconds(c.included_seconds for c in charges),
                charged_minutes=sum(c.charged_minutes for c in charges),
                amount_minor=sum(c.amount_minor for c in charges),
                running=machine in running,
            )
        )
    return sorted(usage, key=lambda row: row.machine.name)


def _seconds(counts: Iterable[int]) -> timedelta:
    return timedelta(seconds=sum(counts))


def billing_usage_section(member: Member) -> BillingSection | None:
    """The billing page's "Machine time this month", when the member has any to show."""
    usage = member_month_usage(member)
    if not usage:
        return None
    totals: dict[str, int] = defaultdict(int)
    for row in usage:
        totals[row.currency] += row.amount_minor
    return BillingSection(
        "metering/billing_usage.html", {"usage": usage, "totals": sorted(totals.items())}
    )
