"""The pages a member touches, whole requests through every middleware (issue 18).

    nice .venv/bin/python bench/web_paths.py                  # SQLite, then PostgreSQL, full size
    nice .venv/bin/python bench/web_paths.py --small --db sqlite   # a quick run
    nice .venv/bin/python bench/web_paths.py --db postgres --machines 200 --bookings 100000

Seeds a throwaway database (PostgreSQL `toolgate_webbench`, SQLite
/tmp/toolgate_webbench.sqlite3; both dropped and recreated) with bench/_shop.py's shop: --machines
machines open 08:00-20:00 in 30-minute slots, --members members with ten certifications each, and
bookings in six 2-hour blocks a day: first only this week and next (at the full year's density),
then history up to --bookings over 52 weeks. At both sizes it times, with Django's test client
(in-process, `DEBUG=0`, every middleware), creating a booking (htmx POST answered with the booked cells,
and the plain form POST answered with a 302), one machine's week grid (htmx), the machine page,
the machine's booking page, the member dashboard and the member's iCal feed, in --rounds rounds
of --samples requests each; the median round counts. It prints p50/p95 and the queries of one
request per path, the growth ratio (p50 at full size / p50 at the small size) and the goals of
issue 18: create p50 < 9 ms with <= 12 queries, week grid p50 < 10 ms, dashboard p50 < 15 ms.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

CLIENTS = 20
GOALS = {  # path: (p50 ms, most queries), issue 18
    "create (htmx)": (9, 12),
    "create (plain)": (9, 12),
    "week grid (htmx)": (10, None),
    "member dashboard": (15, None),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--machines", type=int, default=200)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--bookings", type=int, default=100_000, help="at full size, 52 weeks")
    parser.add_argument("--samples", type=int, default=100, help="requests per path per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--small",
        action="store_true",
        help="a quick run: 40 machines, 400 members, 20,000 bookings, 40 samples",
    )
    args = parser.parse_args()
    if args.small:
        args.machines, args.members, args.bookings, args.samples = 40, 400, 20_000, 40
    if args.db == "both":
        status = 0
        for kind in ("sqlite", "postgres"):
            argv = [a for a in sys.argv[1:] if a not in ("--db", "both", "--db=both")]
            status |= subprocess.call([sys.executable, __file__, *argv, "--db", kind])  # noqa: S603
        return status
    os.environ.setdefault("BENCH_PG_NAME", "toolgate_webbench")
    os.environ.setdefault("BENCH_SQLITE", "/tmp/toolgate_webbench.sqlite3")  # noqa: S108
    with tempfile.TemporaryDirectory() as tasks:
        # The task runner's filesystem queue (the default): its messages in a throwaway folder.
        os.environ["TASK_STATE_DIR"] = tasks
        return Bench(args).run()


class Bench:
    def __init__(self, args) -> None:
        self.args = args
        self.results: dict[str, dict[str, tuple[float, float, int]]] = {}

    def run(self) -> int:
        import _django
        import _shop

        _django.setup(self.args.db)
        from django.db import connection

        began = time.perf_counter()
        self.shop = _shop.seed(machines=self.args.machines, members=self.args.members)
        per_day = _shop.density(self.args.machines, self.args.bookings)
        days_ahead = 7 * _shop.AHEAD_WEEKS
        small = _shop.add_bookings(
            self.shop,
            first_day=self.shop.this_monday,
            days=days_ahead,
            count=round(per_day * self.args.machines * days_ahead),
        )
        _shop.analyze()
        print(
            f"[{connection.vendor}] seeded {self.args.machines} machines, {self.args.members} "
            f"members, {small:,} bookings in {time.perf_counter() - began:.0f} s"
        )
        self.free = iter(_shop.free_blocks(self.shop, first_week=3, weeks=6))
        self.clients()
        self.results["small"] = self.measure(f"{self.count():,} bookings")
        began = time.perf_counter()
        history_days = 7 * (_shop.WEEKS - _shop.AHEAD_WEEKS)
        _shop.add_bookings(
            self.shop,
            first_day=self.shop.this_monday - timedelta(days=history_days),
            days=history_days,
            count=max(0, self.args.bookings - small),
        )
        _shop.analyze()
        print(f"added history to {self.count():,} bookings in {time.perf_counter() - began:.0f} s")
        self.results["full"] = self.measure(f"{self.count():,} bookings")
        return self.report(connection.vendor)

    def count(self) -> int:
        from bookings.models import Booking

        return Booking.objects.count()

    def clients(self) -> None:
        from django.test import Client

        from bookings.services import calendar_feed_for

        self.members = self.shop.rng.sample(self.shop.members, CLIENTS)
        self.logged_in = []
        for member in self.members:
            client = Client(HTTP_HOST="localhost")
            client.force_login(member.user)
            self.logged_in.append((member, client, calendar_feed_for(member).token))

    def paths(self) -> dict[str, Callable[[], object]]:
        rng = self.shop.rng
        week = self.shop.next_monday.isoformat()
        htmx = {"HX-Request": "true"}
        booked: set = set()

        def someone():
            return rng.choice(self.logged_in)

        def machine():
            return rng.choice(self.shop.machines).slug

        def create(*, plain: bool) -> Callable[[], object]:
            def call():
                member, client, _ = someone()
                target, start = next(self.free)
                while (member.pk, start) in booked:  # one member, one machine at a time
                    target, start = next(self.free)
                booked.add((member.pk, start))
                response = client.post(
                    f"/bookings/machine/{target.slug}/new/",
                    {"start": start.isoformat(), "minutes": 120, "form_token": str(uuid.uuid4())},
                    secure=True,
                    headers={} if plain else htmx,
                )
                ok = response.status_code == 302 if plain else b"Booked " in response.content
                assert ok, (response.status_code, response.content[:2000])
                return response

            return call

        def get(url: Callable[[], str], headers=None) -> Callable[[], object]:
            def call():
                response = someone()[1].get(url(), secure=True, headers=headers or {})
                assert response.status_code == 200, (response.status_code, url())
                return response

            return call

        def feed():
            response = self.logged_in[0][1].get(f"/bookings/feed/{someone()[2]}.ics", secure=True)
            assert response.status_code == 200 and b"BEGIN:VCALENDAR" in response.content
            return response

        return {
            "create (htmx)": create(plain=False),
            "create (plain)": create(plain=True),
            "week grid (htmx)": get(
                lambda: f"/bookings/machine/{machine()}/grid/?week={week}", htmx
            ),
            "machine page": get(lambda: f"/machines/{machine()}/"),
            "booking page": get(lambda: f"/bookings/machine/{machine()}/?week={week}"),
            "member dashboard": get(lambda: "/dashboard/"),
            "iCal feed": feed,
        }

    def measure(self, label: str) -> dict[str, tuple[float, float, int]]:
        import _django
        from django.conf import settings
        from django.db import connection
        from django.test import override_settings
        from django.test.utils import CaptureQueriesContext

        # Without collectstatic: plain static URLs instead of the production manifest's.
        storages = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        rounds: dict[str, list[tuple[float, float, int]]] = {}
        with override_settings(STORAGES=storages):
            paths = self.paths()
            for _ in range(self.args.rounds):
                # Round by round, path by path, so a busy moment on the host spreads over all.
                for name, call in paths.items():
                    for _ in range(3):  # warm caches and connections; not timed
                        call()
                    times = []
                    for _ in range(self.args.samples):
                        t0 = time.perf_counter()
                        call()
                        times.append((time.perf_counter() - t0) * 1000)
                    with CaptureQueriesContext(connection) as queries:
                        call()
                    rounds.setdefault(name, []).append((*_django.percentiles(times), len(queries)))
        result = {}
        for name, measured in rounds.items():
            result[name] = sorted(measured)[len(measured) // 2]  # the median round, by p50
            p50, p95, count = result[name]
            spread = ", ".join(f"{m[0]:.1f}" for m in measured)
            print(
                f"[{label}] {name:18} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  {count:3} queries"
                f"  (p50 of each round: {spread})"
            )
        return result

    def report(self, vendor: str) -> int:
        small, full = self.results["small"], self.results["full"]
        print(f"\n{vendor}: path | small p50 / p95 | full p50 / p95 | queries | growth (p50)")
        for name in full:
            s, f = small[name], full[name]
            print(
                f"{vendor}: {name:18} | {s[0]:6.1f} / {s[1]:6.1f} | {f[0]:6.1f} / {f[1]:6.1f} "
                f"| {s[2]} / {f[2]} | {f[0] / s[0]:.2f}"
            )
        missed = 0
        for name, (ms, most) in GOALS.items():
            p50, _, queries = full[name]
            met = p50 < ms and (most is None or queries <= most)
            missed += not met
            wanted = f"p50 < {ms} ms" + (f", <= {most} queries" if most else "")
            print(
                f"{vendor}: goal {name}: {wanted}: p50 {p50:.1f} ms, {queries} queries: "
                f"{'met' if met else 'NOT met'}"
            )
        return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
