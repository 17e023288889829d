"""Does the week grid and booking stay fast as history grows? (PostgreSQL)

    .venv/bin/python bench/calendar_scale.py [--machines 200] [--members 5000] [--bookings 200000]

Seeds the throwaway database `toolgate_bench`: machines with opening hours (django-scheduler),
members, and the same dense bookings around now (2,000). Measures the week-grid selector and
`booking_create`; then adds history (bulk_create) up to --bookings and measures again, so the
growth ratio shows what history costs. Targets: week grid p95 < 30 ms, booking_create p95 < 50 ms,
growth ratio (p95 at full size / p95 at 2,000) < 1.5.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SAMPLES = 300
ROUNDS = 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--machines", type=int, default=200)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--bookings", type=int, default=200_000)
    args = parser.parse_args()

    import _django

    _django.setup("postgres")
    from django.db import connection
    from django.utils import timezone

    from bookings import selectors, services
    from bookings.models import Booking, BookingState
    from equipment import services as equipment_services
    from equipment.models import Machine

    rng = random.Random(4)  # noqa: S311 - reproducible test data, not secrets
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    next_monday = this_monday + timedelta(days=7)

    began = time.perf_counter()
    machines = Machine.objects.bulk_create(
        [
            Machine(
                name=f"Machine {i:03}",
                slug=f"machine-{i:03}",
                slot_minutes=30,
                min_minutes=30,
                max_minutes=240,
                book_ahead_days=70,
                weekly_hours_per_member=0,
                daily_bookings_per_member=0,
                buffer_minutes=15 if i % 2 else 0,
            )
            for i in range(args.machines)
        ]
    )
    for machine in machines:
        equipment_services.opening_hours_add(
            machine=machine,
            weekdays=[0, 1, 2, 3, 4, 5, 6],
            opens=clock(8),
            closes=clock(22),
            starting=this_monday - timedelta(days=400),
        )
    members = _django.ready_members(args.members)
    print(
        f"seeded {len(machines)} machines, {len(members)} members in {time.perf_counter() - began:.0f} s"
    )

    def add_bookings(first_day, days: int, per_machine: int, state_for) -> int:
        """`per_machine` non-overlapping bookings per machine, spread over `days` from `first_day`."""
        rows = []
        for machine in machines:
            step = timedelta(days=days) / per_machine
            for k in range(per_machine):
                start = datetime.combine(first_day, clock(8), tzinfo=zone) + step * k
                start = start.replace(
                    minute=0 if start.minute < 30 else 30, second=0, microsecond=0
                )
                end = start + timedelta(minutes=rng.choice([30, 60, 90]))
                if end >= start + step:  # keep them apart even when the step is short
                    end = start + timedelta(minutes=30)
                rows.append(
                    Booking(
                        machine=machine,
                        member=rng.choice(members),
                        start=start,
                        end=end,
                        blocked_until=end + timedelta(minutes=machine.buffer_minutes),
                        state=state_for(start),
                    )
                )
        Booking.objects.bulk_create(rows, batch_size=5000)
        return len(rows)

    now = timezone.now()

    def state_for(start):
        if start >= now:
            return BookingState.CONFIRMED
        return rng.choice(
            [BookingState.COMPLETED] * 7
            + [BookingState.CANCELLED, BookingState.NO_SHOW, BookingState.LATE_CANCELLED]
        )

    # The same dense fortnight around now at both sizes: 10 bookings per machine.
    base = add_bookings(this_monday, 14, 2000 // args.machines, state_for)

    def analyze() -> None:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    def measure_rounds(label: str, first_round: int) -> dict[str, tuple[float, float]]:
        """Three rounds; the median round counts (the host is shared, so single runs are noisy)."""
        rounds = [measure(label, first_round + k) for k in range(ROUNDS)]
        result = {}
        for name in rounds[0]:
            by_p95 = sorted((r[name] for r in rounds), key=lambda pair: pair[1])
            result[name] = by_p95[len(by_p95) // 2]
            p50, p95 = result[name]
            print(f"  [{label}] {name} median round: p50={p50:.1f} ms p95={p95:.1f} ms")
        return result

    def measure(label: str, round_no: int) -> dict[str, tuple[float, float]]:
        grid_ms, create_ms = [], []
        for machine in machines[:20]:  # warm caches and connections; not timed
            selectors.week_grid(machine=machine, monday=this_monday, member=members[0])
        for _ in range(SAMPLES):
            machine = rng.choice(machines)
            member = rng.choice(members)
            t0 = time.perf_counter()
            selectors.week_grid(machine=machine, monday=next_monday, member=member, show_names=True)
            grid_ms.append((time.perf_counter() - t0) * 1000)
        # Each sample books a distinct free slot in the third week (nobody booked there yet).
        slots = [
            (machine, day, hour)
            for machine in machines
            for day in range(7)
            for hour in (9, 12, 15, 18)
        ]
        rng.shuffle(slots)
        third_monday = this_monday + timedelta(days=14 + 7 * round_no)  # a week nobody booked
        failures = 0
        for machine, day, hour in slots[:SAMPLES]:
            start = datetime.combine(third_monday + timedelta(days=day), clock(hour), tzinfo=zone)
            t0 = time.perf_counter()
            try:
                services.booking_create(
                    member=rng.choice(members),
                    machine=machine,
                    start=start,
                    end=start + timedelta(hours=1),
                )
            except Exception as error:
                failures += 1
                if failures < 3:
                    print("  booking refused:", error)
            create_ms.append((time.perf_counter() - t0) * 1000)
        result = {
            "week grid": _django.percentiles(grid_ms),
            "booking_create": _django.percentiles(create_ms),
        }
        total = Booking.objects.count()
        for name, (p50, p95) in result.items():
            print(f"[{label}, {total:,} bookings] {name}: p50={p50:.1f} ms p95={p95:.1f} ms")
        return result

    analyze()
    small = measure_rounds(f"{base:,}", 0)
    began = time.perf_counter()
    history = args.bookings - base
    per_machine = history // args.machines
    add_bookings(this_monday - timedelta(days=300), 299, per_machine, state_for)
    analyze()
    print(
        f"added {per_machine * args.machines:,} bookings of history in {time.perf_counter() - began:.0f} s"
    )
    large = measure_rounds("full", ROUNDS)
    status = 0
    for name, target in (("week grid", 30), ("booking_create", 50)):
        ratio = large[name][1] / small[name][1]
        verdict = "OK" if large[name][1] < target and ratio < 1.5 else "MISSED"
        print(
            f"{name}: p95 {large[name][1]:.1f} ms (target < {target}), growth ratio {ratio:.2f} (target < 1.5): {verdict}"
        )
        status |= verdict != "OK"
    return status


if __name__ == "__main__":
    sys.exit(main())
