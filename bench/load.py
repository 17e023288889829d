"""The site as deployed under load: gunicorn on PostgreSQL on loopback, driven by locust (issue 18).

    make bench-load                                  # 5 minutes; makes .venv-load with locust
    make bench-load MINUTES=2
    nice .venv/bin/python bench/load.py --minutes 2 --locust .venv-load/bin/locust

Seeds the throwaway database `toolgate_load` with bench/_shop.py's shop (--machines, --members,
--bookings over 52 weeks; 200 members and 5 staff get a password and a verified email), collects
the static files, and starts the README's production setup: `gunicorn config.wsgi --workers 3` with
`DEBUG=0`, on loopback without the TLS proxy (so without the secure-only cookies and the HTTPS
redirect, which the proxy's TLS would carry). Then locust (its own process and virtualenv,
bench/locustfile.py), headless and bounded in time, runs --members-online members who log in
and browse week grids, booking pages, machine pages and their dashboard and book 2-hour blocks,
and --staff-online staff at the desk (Today, member search, a member's page, the day's bookings).
It prints requests/s, p50/p95/p99 per page and errors, then checks the bookings table: no two
active bookings of one machine overlap. Goals (issue 18): 0 errors, 0 double bookings, p95 <
100 ms for every page.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
PASSWORD = "load-bench-password-7"  # noqa: S105 - a throwaway database's members


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--machines", type=int, default=200)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--members-online", type=int, default=200)
    parser.add_argument("--staff-online", type=int, default=5)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (the README's 3)")
    parser.add_argument(
        "--wait", type=float, nargs=2, default=(1.0, 5.0), help="think time between clicks, s"
    )
    parser.add_argument(
        "--spawn-rate", type=float, default=10, help="people starting per second (and logging in)"
    )
    parser.add_argument("--locust", default=str(ROOT / ".venv-load" / "bin" / "locust"))
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if not Path(args.locust).exists():
        sys.exit(f"{args.locust} is missing: `make bench-load` makes .venv-load with locust.")
    os.environ.setdefault("BENCH_PG_NAME", "toolgate_load")
    with tempfile.TemporaryDirectory() as directory:
        os.environ["TASK_STATE_DIR"] = str(Path(directory) / "tasks")
        return Load(args, Path(directory)).run()


class Load:
    def __init__(self, args, directory: Path) -> None:
        self.args = args
        self.directory = directory

    def run(self) -> int:
        import _django

        _django.setup("postgres")
        began = time.perf_counter()
        plan = self.seed()
        print(f"seeded in {time.perf_counter() - began:.0f} s; {self.count():,} bookings")
        plan_file = self.directory / "plan.json"
        plan_file.write_text(json.dumps(plan))
        env = os.environ | {"SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0"}
        env |= {"CSRF_COOKIE_SECURE": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost"}
        subprocess.run(  # noqa: S603 - this interpreter, this project's manage.py
            [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"],
            env=env,
            check=True,
        )
        before = self.count()
        site = self.serve(env)
        try:
            stats = self.drive(plan_file)
        finally:
            site.terminate()
            site.wait(timeout=30)
        return self.report(stats, booked=self.count() - before)

    def count(self) -> int:
        from bookings.models import Booking

        return Booking.objects.count()

    def seed(self) -> dict:
        import _shop
        from allauth.account.models import EmailAddress
        from django.contrib.auth.hashers import make_password
        from django.contrib.auth.models import Group
        from django.utils import timezone

        from membership import roles
        from membership.models import User
        from staffing.models import Role
        from staffing.services import location_role_grant

        args = self.args
        shop = _shop.seed(machines=args.machines, members=args.members)
        _shop.add_bookings(
            shop,
            first_day=shop.this_monday - timedelta(weeks=_shop.WEEKS - _shop.AHEAD_WEEKS),
            days=7 * _shop.WEEKS,
            count=args.bookings,
        )
        _shop.analyze()
        online = shop.rng.sample(shop.members, args.members_online)
        User.objects.filter(pk__in=[m.user_id for m in online]).update(
            password=make_password(PASSWORD)
        )
        staff = [
            User.objects.create_user(email=f"desk{i}@bench.test", password=PASSWORD, is_staff=True)
            for i in range(args.staff_online)
        ]
        group = Group.objects.get(name=roles.STAFF)
        for user in staff:
            user.groups.add(group)
            location_role_grant(user=user, role=Role.STAFF, location=None)
        users = [m.user for m in online] + staff
        EmailAddress.objects.bulk_create(
            [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users]
        )
        weeks = [shop.this_monday + timedelta(weeks=w) for w in range(1, 9)]
        zone = timezone.get_current_timezone()
        days = [w + timedelta(days=d) for w in weeks for d in range(7)]

        def address(n: int) -> str:
            return f"127.0.{1 + n // 250}.{1 + n % 250}"

        return {
            "member": [
                {"email": m.user.email, "address": address(n)} for n, m in enumerate(online)
            ],
            "staff": [
                {"email": u.email, "address": address(len(online) + n)} for n, u in enumerate(staff)
            ],
            "password": PASSWORD,
            "after_login": {"member": "/dashboard", "staff": "/dashboard"},
            "members_online": args.members_online,
            "staff_online": args.staff_online,
            "wait": list(args.wait),
            "machines": [m.slug for m in shop.machines],
            "weeks": [w.isoformat() for w in weeks],
            "block_hours": [b.hour for b in _shop.BLOCKS],
            "utc_offset_minutes": {
                d.isoformat(): _offset_minutes(d, _shop.BLOCKS[0], zone) for d in days
            },
            "member_count": args.members,
            "member_ids": [m.pk for m in shop.rng.sample(shop.members, 200)],
        }

    def serve(self, env: dict) -> subprocess.Popen:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        log = (self.directory / "gunicorn.log").open("ab")
        site = subprocess.Popen(  # noqa: S603 - this virtualenv's gunicorn, this project
            [
                str(gunicorn),
                "config.wsgi",
                "--workers",
                str(self.args.workers),
                "--bind",
                f"127.0.0.1:{self.args.port}",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.args.port}/accounts/login/")
                return site
            except OSError:
                if site.poll() is not None:
                    sys.exit((self.directory / "gunicorn.log").read_text())
                time.sleep(0.5)
        site.terminate()
        sys.exit("gunicorn did not answer within a minute")

    def drive(self, plan_file: Path) -> list[dict]:
        users = self.args.members_online + self.args.staff_online
        prefix = self.directory / "locust"
        began = time.perf_counter()
        subprocess.run(  # noqa: S603 - the load generator's own virtualenv
            [
                self.args.locust,
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(self.args.spawn_rate),
                "--run-time",
                f"{round(self.args.minutes * 60)}s",
                "--host",
                f"http://127.0.0.1:{self.args.port}",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            env=os.environ | {"LOAD_PLAN": str(plan_file)},
            stdout=(self.directory / "locust.log").open("ab"),
            stderr=subprocess.STDOUT,
            check=False,  # locust exits 1 when any request failed: the report says which
        )
        self.seconds = time.perf_counter() - began
        failures = (self.directory / "locust_failures.csv").read_text()
        self.failures = list(csv.DictReader(failures.splitlines()))
        with (self.directory / "locust_stats.csv").open() as stats:
            return list(csv.DictReader(stats))

    def report(self, stats: list[dict], *, booked: int) -> int:
        from django.db import connection

        from bookings.models import ACTIVE_STATES

        print(f"\n{'page':24} {'requests':>9} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} errors")
        slow = []
        for row in stats:
            name = row["Name"] if row["Name"] != "Aggregated" else "all pages"
            p50, p95, p99 = (row[k] for k in ("50%", "95%", "99%"))
            print(
                f"{name:24} {row['Request Count']:>9} {float(row['Requests/s']):7.1f} "
                f"{p50:>6} {p95:>6} {p99:>6} {row['Failure Count']}"
            )
            if name not in ("all pages", "log in", "login form") and float(p95 or 0) >= 100:
                slow.append(name)
        for failure in self.failures[:10]:
            print(f"error: {failure['Name']}: {failure['Error']} x{failure['Occurrences']}")
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
                   ON a.machine_id = b.machine_id AND a.id < b.id
                   AND a.start < b.blocked_until AND b.start < a.blocked_until
                   WHERE a.state = ANY(%s) AND b.state = ANY(%s)""",
                [[str(state) for state in ACTIVE_STATES]] * 2,
            )
            (doubles,) = cursor.fetchone()
        total = next(r for r in stats if r["Name"] == "Aggregated")
        errors = int(total["Failure Count"])
        with open("/proc/loadavg") as loadavg:
            load = loadavg.read().split()[:3]
        print(
            f"\n{self.seconds:.0f} s, {float(total['Requests/s']):.1f} requests/s, {errors} errors, "
            f"{booked} bookings made, {doubles} double bookings; load average {' '.join(load)}"
        )
        print(f"goal 0 errors: {'met' if errors == 0 else 'NOT met'}")
        print(f"goal 0 double bookings: {'met' if doubles == 0 else 'NOT met'}")
        print(
            f"goal p95 < 100 ms on every page: {'NOT met: ' + ', '.join(slow) if slow else 'met'}"
        )
        return 1 if errors or doubles or slow else 0


def _offset_minutes(day, at, zone) -> int:
    from datetime import datetime

    offset = datetime.combine(day, at, tzinfo=zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


if __name__ == "__main__":
    sys.exit(main())
