"""What every report shares: its period of whole local days, and percentages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from console.models import ROLLUP_LOOKBACK, ROLLUP_MARK, RollupMark
from core.time import local_midnight, week_start
from locations.models import Location


@dataclass(frozen=True)
class Period:
    """Whole local days, `first_day` to `last_day` inclusive, in the current time zone (the
    report's location's: the view activates it)."""

    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return local_midnight(self.first_day, timezone.get_current_timezone())

    @property
    def end(self) -> datetime:
        """The local midnight after `last_day` (23, 24 or 25 hours after the day began)."""
        return local_midnight(self.last_day + timedelta(days=1), timezone.get_current_timezone())


def weeks_until(weeks: int, until: date | None = None) -> Period:
    """The `weeks` local weeks (Monday to Sunday) ending with `until`'s week (today's)."""
    last_week = week_start(until or timezone.localdate())
    return Period(last_week - timedelta(weeks=weeks - 1), last_week + timedelta(days=6))


def days_until(days: int, until: date | None = None) -> Period:
    """The `days` local days ending with `until` (today)."""
    last = until or timezone.localdate()
    return Period(last - timedelta(days=days - 1), last)


def share(part: int | float, whole: int | float) -> int | None:
    """`part` as a whole percentage of `whole`; None when `whole` is nothing."""
    if not whole:
        return None
    return round(100 * part / whole)


def settled_day(locations: QuerySet[Location], now: datetime) -> date | None:
    """The first local day (current zone) whose figures are counted live: the day rollups hold
    the days before it, settled (older than the rollup's look-back before its last run, and
    recounted by every run since a late change). None: count everything live, because no rollup
    has run yet, or one of `locations` is in another zone (its rollup days are its own zone's)."""
    zone = timezone.get_current_timezone()
    key = getattr(zone, "key", None)
    through = RollupMark.objects.filter(name=ROLLUP_MARK).values_list("through", flat=True).first()
    if through is None or key is None or locations.exclude(time_zone=key).exists():
        return None
    return timezone.localtime(min(through, now) - ROLLUP_LOOKBACK, zone).date()
