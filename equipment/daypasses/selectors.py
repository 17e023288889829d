"""Read-only: the passes members hold and what they open, gathered in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import dateformat
from django.utils.translation import gettext as _

from core.time import utc
from equipment.daypasses.models import DayPass, DayPassProduct, DayPassState
from equipment.daypasses.rules import PassCover, PassMachine, pass_covers_span, pass_names_machine
from equipment.models import Machine
from locations.models import Location
from membership.models import Member


def _named(through: Any, column: str, product_ids: set[int]) -> dict[int, frozenset[int]]:
    named: dict[int, set[int]] = {}
    for product_id, other in through.objects.filter(daypassproduct_id__in=product_ids).values_list(
        "daypassproduct_id", column
    ):
        named.setdefault(product_id, set()).add(other)
    return {product_id: frozenset(ids) for product_id, ids in named.items()}


def pass_covers_held(
    *, holder_ids: Iterable[int], days: Iterable[date] = (), from_day: date | None = None
) -> list[PassCover]:
    """What each paid pass of `holder_ids` for one of `days` (or for `from_day` and later)
    opens, in four queries at most."""
    held = DayPass.objects.filter(holder_id__in=set(holder_ids), state=DayPassState.PAID)
    held = (
        held.filter(day__gte=from_day) if from_day is not None else held.filter(day__in=set(days))
    )
    passes = list(held.values_list("holder_id", "day", "product_id"))
    if not passes:
        return []
    product_ids = {product_id for _, _, product_id in passes}
    machines = _named(DayPassProduct.machines.through, "machine_id", product_ids)
    classes = _named(DayPassProduct.certifications.through, "certification_id", product_ids)
    locations = _named(DayPassProduct.locations.through, "location_id", product_ids)
    empty: frozenset[int] = frozenset()
    return [
        PassCover(
            holder_id=holder_id,
            day=day,
            machine_ids=machines.get(product_id, empty),
            certification_ids=classes.get(product_id, empty),
            location_ids=locations.get(product_id, empty),
        )
        for holder_id, day, product_id in passes
    ]


def days_around(instants: Iterable[datetime]) -> set[date]:
    """Every local date `instants` can fall on in any zone (UTC -12 to +14): a day either side."""
    return {instant.date() + timedelta(days=shift) for instant in instants for shift in (-1, 0, 1)}


def pass_machines(machines: Iterable[Machine]) -> dict[int, PassMachine]:
    """Each machine as the pass rules read it, with its location's zone (one query)."""
    machines = list(machines)
    zones = {
        location.pk: location.zone
        for location in Location.objects.filter(pk__in={m.location_id for m in machines}).only(
            "pk", "time_zone"
        )
    }
    opened = {}
    for machine in machines:
        location_id = machine.location_id
        assert location_id is not None, "every machine stands at a location"
        opened[machine.pk] = PassMachine(
            machine_id=machine.pk,
            certification_id=machine.required_certification_id,
            location_id=location_id,
            zone=zones[location_id],
        )
    return opened


def day_pass_opens_span(
    *, member: Member, machine: Machine, start: datetime, end: datetime
) -> bool:
    """Whether a paid pass of `member` opens `machine` from `start` to `end` (a booking)."""
    covers = pass_covers_held(holder_ids=[member.pk], days=days_around([start]))
    return bool(covers) and pass_covers_span(
        covers,
        holder_id=member.pk,
        machine=pass_machines([machine])[machine.pk],
        start=start,
        end=end,
    )


def day_pass_machines_ahead(
    *, member: Member, machines: Iterable[Machine], now: datetime
) -> set[int]:
    """Which of `machines` a paid pass of `member` opens today or on a day to come."""
    covers = pass_covers_held(holder_ids=[member.pk], from_day=now.date() - timedelta(days=1))
    if not covers:
        return set()
    opened = set()
    for machine in pass_machines(machines).values():
        today = utc(now).astimezone(machine.zone).date()
        if any(c.day >= today and pass_names_machine(c, machine) for c in covers):
            opened.add(machine.machine_id)
    return opened


def day_pass_openings(*, member: Member, now: datetime) -> list[str]:
    """What `member`'s paid passes open today or on a day to come, read in each machine's
    zone, a sentence each: "Day pass: Laser cutter A today until midnight"."""
    covers = pass_covers_held(holder_ids=[member.pk], from_day=now.date() - timedelta(days=1))
    if not covers:
        return []
    named = Machine.objects.filter(
        location__in=set().union(*(c.location_ids for c in covers))
    ).filter(
        Q(pk__in=set().union(*(c.machine_ids for c in covers)))
        | Q(required_certification__in=set().union(*(c.certification_ids for c in covers)))
    )
    names = {machine.pk: machine.name for machine in named}
    opened = pass_machines(named)
    lines = []
    for cover in sorted(covers, key=lambda c: c.day):
        for machine in opened.values():
            today = utc(now).astimezone(machine.zone).date()
            if cover.day < today or not pass_names_machine(cover, machine):
                continue
            name = names[machine.machine_id]
            if cover.day == today:
                lines.append(_("Day pass: %(machine)s today until midnight") % {"machine": name})
            else:
                # Translators: a short date, in Django's date format letters.
                day = dateformat.format(cover.day, _("D j M"))
                lines.append(_("Day pass: %(machine)s on %(day)s") % {"machine": name, "day": day})
    return lines


def day_pass_product_machines(product: DayPassProduct) -> list[Machine]:
    """Every machine `product` opens: those it names and those of its machine classes, at the
    locations it names."""
    return list(
        Machine.objects.filter(location__in=product.locations.all()).filter(
            Q(pk__in=product.machines.all())
            | Q(required_certification__in=product.certifications.all())
        )
    )


def member_day_passes(member: Member) -> QuerySet[DayPass]:
    """The member's passes, newest day first, without the Checkouts left unpaid."""
    return (
        DayPass.objects.filter(holder=member)
        .exclude(state=DayPassState.EXPIRED)
        .select_related("product")
    )


def day_pass_products_on_sale() -> QuerySet[DayPassProduct]:
    return DayPassProduct.objects.filter(active=True).prefetch_related(
        "machines", "certifications", "locations"
    )
