"""N threads book the same slot of the same machine at once: exactly one must win.

    .venv/bin/python bench/booking_race.py [--threads 50] [--db both|postgres|sqlite]

Runs each database in its own process (Django's settings are per process) on a throwaway
database: PostgreSQL `toolgate_bench`, SQLite /tmp/toolgate_bench.sqlite3. Prints successes,
refusals by reason and the p50/p95 latency of `booking_create`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def race(kind: str, threads: int) -> int:
    import _django

    _django.setup(kind)
    from datetime import datetime, timedelta

    from django.db import connection
    from django.utils import timezone

    from bookings import services
    from bookings.errors import BookingRejected
    from equipment.models import Machine

    machine = Machine.objects.create(
        name="Race laser", slug="race-laser", weekly_hours_per_member=0, daily_bookings_per_member=0
    )
    members = _django.ready_members(threads)
    tomorrow = timezone.localdate() + timedelta(days=1)
    start = datetime.combine(
        tomorrow, datetime.min.time().replace(hour=10), tzinfo=timezone.get_current_timezone()
    )
    end = start + timedelta(hours=1)
    connection.close()

    barrier = threading.Barrier(threads)
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()

    def attempt(member) -> None:
        from django.db import connections

        barrier.wait()
        began = time.perf_counter()
        try:
            services.booking_create(member=member, machine=machine, start=start, end=end)
            outcome = "booked"
        except BookingRejected as rejected:
            outcome = f"refused: {rejected.reason.value}"
        except Exception as error:  # a benchmark reports every failure kind
            outcome = f"error: {type(error).__name__}: {error}"
        elapsed = (time.perf_counter() - began) * 1000
        with lock:
            outcomes[outcome] += 1
            latencies.append(elapsed)
        connections.close_all()

    workers = [threading.Thread(target=attempt, args=(m,)) for m in members]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    from bookings.models import Booking

    p50, p95 = _django.percentiles(latencies)
    stored = Booking.objects.filter(machine=machine).count()
    print(f"[{kind}] threads={threads} successes={outcomes['booked']} stored_bookings={stored}")
    for outcome, count in sorted(outcomes.items()):
        print(f"[{kind}]   {outcome}: {count}")
    print(f"[{kind}] booking_create latency p50={p50:.1f} ms p95={p95:.1f} ms")
    ok = outcomes["booked"] == 1 and stored == 1
    print(f"[{kind}] {'OK: exactly one winner' if ok else 'FAIL: expected exactly one winner'}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=50)
    parser.add_argument("--db", choices=["both", "postgres", "sqlite"], default="both")
    args = parser.parse_args()
    if args.db != "both":
        return race(args.db, args.threads)
    status = 0
    for kind in ("postgres", "sqlite"):
        command = [sys.executable, __file__, "--db", kind, "--threads", str(args.threads)]
        status |= subprocess.call(command, env=os.environ.copy())  # noqa: S603 - our own script
    return status


if __name__ == "__main__":
    sys.exit(main())
