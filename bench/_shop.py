"""One shop of the web benches (issue 18): machines open 08:00-20:00 in 30-minute slots, members
holding ten certifications, and bookings in six 2-hour blocks a day, written with bulk_create.

Used by `bench/web_paths.py` (in-process test client) and `bench/load.py` (gunicorn + locust).
Call after `_django.setup(kind)`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock

CERTIFICATIONS = 10
BLOCKS = [clock(h) for h in range(8, 20, 2)]  # six 2-hour blocks a day
WEEKS = 52
AHEAD_WEEKS = 2  # of the 52, this week and next; the rest is history


@dataclass
class Shop:
    machines: list
    members: list
    this_monday: date
    rng: random.Random
    taken: set = field(default_factory=set)  # (machine pk, day, block) already booked

    @property
    def next_monday(self) -> date:
        return self.this_monday + timedelta(days=7)


def seed(*, machines: int, members: int, seed_value: int = 18) -> Shop:
    """Machines with opening hours (through the service: django-scheduler's events), members
    (paid, waiver, badge) each holding all ten certifications, one certification per machine."""
    import _django
    from django.utils import timezone

    from equipment import services as equipment_services
    from equipment.models import Machine
    from training.models import Certification, MemberCertification

    today = timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    first_day = this_monday - timedelta(weeks=WEEKS - AHEAD_WEEKS)
    certifications = Certification.objects.bulk_create(
        [Certification(name=f"Tool {i}", slug=f"tool-{i}") for i in range(CERTIFICATIONS)]
    )
    rows = Machine.objects.bulk_create(
        [
            Machine(
                name=f"Machine {i:03}",
                slug=f"machine-{i:03}",
                required_certification=certifications[i % CERTIFICATIONS],
                slot_minutes=30,
                min_minutes=30,
                max_minutes=240,
                book_ahead_days=70,
                weekly_hours_per_member=0,
                daily_bookings_per_member=0,
            )
            for i in range(machines)
        ]
    )
    for machine in rows:
        # Hours set when the year of history began: the recurrence expands from that day.
        equipment_services.opening_hours_add(
            machine=machine,
            weekdays=[0, 1, 2, 3, 4, 5, 6],
            opens=clock(8),
            closes=clock(20),
            starting=first_day,
        )
    people = _django.ready_members(members)
    MemberCertification.objects.bulk_create(
        [
            MemberCertification(member=m, certification=c, granted_by=m.user)
            for m in people
            for c in certifications
        ],
        batch_size=5000,
    )
    return Shop(rows, people, this_monday, random.Random(seed_value))  # noqa: S311 - test data


def add_bookings(shop: Shop, *, first_day: date, days: int, count: int) -> int:
    """`count` bookings of free 2-hour blocks spread at random over `days` from `first_day` (fewer
    only if the span has no more free blocks): past ones mostly completed (some cancelled,
    no-show), future ones confirmed."""
    from django.utils import timezone

    from bookings.models import Booking, BookingState

    zone = timezone.get_current_timezone()
    now = timezone.now()
    past = [BookingState.COMPLETED] * 7 + [
        BookingState.CANCELLED,
        BookingState.NO_SHOW,
        BookingState.LATE_CANCELLED,
    ]
    rng = shop.rng
    rows: list = []
    written = 0
    made = 0
    for _ in range(4 * count):  # bounded: a nearly full span gives up rather than spin
        if made == count:
            break
        machine = rng.choice(shop.machines)
        day = first_day + timedelta(days=rng.randrange(days))
        block = rng.randrange(len(BLOCKS))
        if (machine.pk, day, block) in shop.taken:
            continue  # taken already: draw again
        shop.taken.add((machine.pk, day, block))
        made += 1
        start = datetime.combine(day, BLOCKS[block], tzinfo=zone)
        end = start + timedelta(hours=2)
        rows.append(
            Booking(
                machine=machine,
                member=rng.choice(shop.members),
                start=start,
                end=end,
                blocked_until=end,
                state=BookingState.CONFIRMED if start >= now else rng.choice(past),
            )
        )
        if len(rows) >= 20_000:
            Booking.objects.bulk_create(rows, batch_size=5000)
            written += len(rows)
            rows = []
    Booking.objects.bulk_create(rows, batch_size=5000)
    return written + len(rows)


def density(machines: int, bookings: int) -> float:
    """Bookings per machine-day that `bookings` over the 52 weeks make."""
    return bookings / (machines * WEEKS * 7)


def free_blocks(shop: Shop, *, first_week: int, weeks: int) -> list[tuple]:
    """Unbooked (machine, start) 2-hour blocks `first_week` weeks ahead and on, shuffled."""
    from django.utils import timezone

    zone = timezone.get_current_timezone()
    monday = shop.this_monday + timedelta(weeks=first_week)
    blocks = [
        (machine, datetime.combine(monday + timedelta(days=d), BLOCKS[b], tzinfo=zone))
        for machine in shop.machines
        for d in range(7 * weeks)
        for b in range(len(BLOCKS))
        if (machine.pk, monday + timedelta(days=d), b) not in shop.taken
    ]
    shop.rng.shuffle(blocks)
    return blocks


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
