"""Do the staff Today screen and the reports stay under 300 ms at chain size? (PostgreSQL)

    nice .venv/bin/python bench/reports_scale.py [--machines 200] [--members 5000]
        [--bookings 2000000] [--sessions 1000000] [--samples 40] [--measure-only]

Seeds the throwaway database `toolgate_bench`: machines with a gate each, members, a year of
bookings back from now (sequential per machine, 45 minutes every 50, so the exclusion
constraint holds; one in ten a no-show, one in ten cancelled) and a usage session on every
other booking; for the other reports each member's membership history (joined and activated
over the year, one in ten cancelled since), a ledger entry a member a month, training
requests, classes with rosters and certifications expiring over the coming months; rolls the year up into
`MachineHour`, `MachineDay` and `MemberWeek` as the task runner would (and times its first and a
later run); then times the pages a staff member opens (through
Django's test client: middleware, context processors, templates and all) and prints p50 and p95
of each. Target: every page p95 < 300 ms. The seeding dominates the run time (minutes);
`--measure-only` times the pages again on the database the last run left (migrated first), for
a change that needs no new data.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET_MS = 300.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--machines", type=int, default=200)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--bookings", type=int, default=2_000_000)
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--measure-only", action="store_true", help="no seeding: time the pages")
    parser.add_argument(
        "--rollup",
        action="store_true",
        help="with --measure-only: run the rollup task once first (on a database an older version "
        "seeded, its first run rolls the history's days and weeks up)",
    )
    args = parser.parse_args()

    import _django

    _django.setup("postgres", fresh=not args.measure_only)
    if not args.measure_only:
        _seed(args)
    elif args.rollup:
        _rollup_task()
    return _measure(args.samples)


def _rollup_task() -> None:
    """One run of the task runner's job, timed (the first run includes the history's days)."""
    from django.db import connection

    from console.services import reports_rollup

    began = time.perf_counter()
    rows = reports_rollup()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"rollup task: {rows:,} hours recounted in {time.perf_counter() - began:.0f} s", flush=True
    )


def _seed(args) -> None:
    import _django
    from django.db import connection
    from django.utils import timezone

    from access.models import GateDevice
    from bookings.models import Booking
    from console.services import utilization_rollup
    from equipment.models import Machine

    began = time.perf_counter()
    machines = Machine.objects.bulk_create(
        [Machine(name=f"Machine {i:03}", slug=f"machine-{i:03}") for i in range(args.machines)]
    )
    GateDevice.objects.bulk_create(
        [
            GateDevice(
                machine=m,
                device_id=f"gate-{m.pk}",
                secret="x" * 64,
                mqtt_username=f"gate-{m.pk}",
                mqtt_password_hash=_django.UNUSABLE,
                online=bool(m.pk % 7),
            )
            for m in machines
        ]
    )
    members = _django.ready_members(args.members)
    print(f"seeded machines and members in {time.perf_counter() - began:.0f} s", flush=True)

    now = timezone.now().replace(second=0, microsecond=0)
    written, sessions = _seed_bookings_and_sessions(
        machines=[m.pk for m in machines],
        members=[m.pk for m in members],
        per_machine=args.bookings // len(machines),
        sessions=args.sessions,
        now=now,
    )
    _seed_members_money_training(members, now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"seeded {written:,} bookings, {sessions:,} sessions in {time.perf_counter() - began:.0f} s",
        flush=True,
    )

    rolled = time.perf_counter()
    first = min(Booking.objects.order_by("start").values_list("start", flat=True)[:1])
    day = timedelta(days=7)
    cursor_at, rows = first, 0
    while cursor_at < now + timedelta(hours=2):
        rows += utilization_rollup(start=cursor_at, end=cursor_at + day, now=now)
        cursor_at += day
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"rolled up {rows:,} machine-hours in {time.perf_counter() - rolled:.0f} s", flush=True)
    # The task runner's first run: the mark, and the history's days and weeks once more.
    _rollup_task()
    began = time.perf_counter()
    from console.services import reports_rollup

    reports_rollup()
    print(f"rollup task, a later run: {time.perf_counter() - began:.1f} s", flush=True)


def _measure(rounds: int) -> int:
    import _django
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.test.utils import override_settings

    from membership import roles
    from membership.models import User

    staff, _ = User.objects.get_or_create(email="bench-staff@bench.test")
    staff.groups.add(Group.objects.get(name=roles.STAFF))
    # No collectstatic in a bench: plain static URLs instead of the hashed manifest's.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(STORAGES=storages).enable()
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    pages = {
        "Today": ("/staff/today/", {}),
        "Today (htmx partial)": ("/staff/today/", {"HX-Request": "true"}),
        "Utilization, 12 weeks": ("/staff/reports/utilization/", {}),
        "Utilization, 52 weeks": ("/staff/reports/utilization/?weeks=52", {}),
        "Utilization CSV": ("/staff/reports/utilization/?format=csv", {}),
        "No-shows, 12 weeks": ("/staff/reports/no-shows/", {}),
        "No-shows CSV": ("/staff/reports/no-shows/?format=csv", {}),
        "Certifications": ("/staff/reports/certifications/", {}),
        "Members, 12 months": ("/staff/reports/members/", {}),
        "Members, 24 months": ("/staff/reports/members/?months=24", {}),
        "Money, 30 days": ("/staff/reports/money/", {}),
        "Money, 92 days": ("/staff/reports/money/?days=92", {}),
        "Setup": ("/staff/setup/", {}),
        "Problem reports": ("/machines/problems/", {}),
    }
    failed = False
    print(f"\n{'page':28} {'p50 ms':>8} {'p95 ms':>8}")
    for name, (url, headers) in pages.items():
        client.get(url, headers=headers, secure=True)  # warm (DEBUG=0 redirects http)
        samples = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            response = client.get(url, headers=headers, secure=True)
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        p50, p95 = _django.percentiles(samples)
        failed |= p95 >= TARGET_MS
        print(f"{name:28} {p50:8.1f} {p95:8.1f}{'  OVER' if p95 >= TARGET_MS else ''}")
    print(f"\ntarget p95 < {TARGET_MS:.0f} ms: {'MISSED' if failed else 'met'}")
    return 1 if failed else 0


def _seed_bookings_and_sessions(*, machines, members, per_machine, sessions, now):
    """Bookings and usage sessions written by PostgreSQL itself (`generate_series`): building two
    million model instances in Python took most of an hour on the shared host. Per machine,
    bookings back from an hour ahead of now (so "now" and "next" exist on every machine), 45
    minutes every 50 so the exclusion constraint holds; of the past ones one in ten a no-show, one
    in ten cancelled, the rest completed; the sessions on an even spread of the completed ones."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO bookings_booking (machine_id, member_id, start, "end", blocked_until,
                state, created_at, cancel_reason, extended_count)
            SELECT m.id, (%(members)s::bigint[])[1 + (m.n * 31 + i) %% cardinality(%(members)s)],
                b.start, b.start + interval '45 minutes', b.start + interval '45 minutes',
                CASE WHEN b.start + interval '45 minutes' > %(now)s THEN 'confirmed'
                     WHEN i %% 10 = 8 THEN 'no_show'
                     WHEN i %% 10 = 9 THEN 'cancelled'
                     ELSE 'completed' END,
                b.start - interval '2 days', '', 0
            FROM unnest(%(machines)s::bigint[]) WITH ORDINALITY AS m(id, n)
            CROSS JOIN generate_series(0, %(per)s - 1) AS i
            CROSS JOIN LATERAL (SELECT %(first)s + i * interval '50 minutes' AS start) AS b
            """,
            {
                "members": members,
                "machines": machines,
                "per": per_machine,
                "now": now,
                "first": now + timedelta(hours=1) - per_machine * timedelta(minutes=50),
            },
        )
        written = cursor.rowcount
        # An even spread: every k-th completed booking by id, then the first `sessions` of those.
        cursor.execute(
            """
            INSERT INTO access_usagesession (session_id, device_id, machine_id, member_id,
                badge_uid, grant_reason, started_at, grant_end, ended_at, end_reason)
            SELECT md5(b.id::text), g.id, b.machine_id, b.member_id, '', '',
                b.start + interval '3 minutes', b."end", b."end" - interval '5 minutes',
                'grant_expired'
            FROM (
                SELECT id, machine_id, member_id, start, "end",
                    row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS total
                FROM bookings_booking WHERE state = 'completed'
            ) AS b
            JOIN access_gatedevice AS g ON g.machine_id = b.machine_id
            WHERE (b.n * %(sessions)s) / b.total > ((b.n - 1) * %(sessions)s) / b.total
            """,
            {"sessions": sessions},
        )
        return written, cursor.rowcount


def _seed_members_money_training(members, now) -> None:
    """What the members, money and certification reports count, in bulk: per member a
    membership change into active (and for one in ten out again), twelve monthly payments, a
    grant expiring within the coming 120 days; per 20 members a training request; a class a week
    with a full roster."""
    from django.contrib.contenttypes.models import ContentType

    from membership.billing.models import LedgerEntry
    from membership.models import Member, Membership, MembershipChange, MembershipStatus, User
    from training.models import (
        Certification,
        ClassSession,
        Enrollment,
        EnrollmentStatus,
        MemberCertification,
        Outcome,
        TrainingRequest,
    )

    memberships = {m.member_id: m for m in Membership.objects.filter(member__in=members)}
    instructor = User.objects.create_user(email="bench-instructor@bench.test", password=None)
    cert = Certification.objects.create(name="Bench laser", slug="bench-laser")
    member_type = ContentType.objects.get_for_model(Member)
    changes, entries, grants, requests = [], [], [], []
    for i, member in enumerate(members):
        membership = memberships[member.pk]
        joined = now - timedelta(days=365 - i % 365)
        changes.append(MembershipChange(
            membership=membership, from_status=MembershipStatus.PENDING,
            to_status=MembershipStatus.ACTIVE, cause="system", reason="bench", created_at=joined,
        ))  # fmt: skip
        if i % 10 == 0:
            changes.append(MembershipChange(
                membership=membership, from_status=MembershipStatus.ACTIVE,
                to_status=MembershipStatus.CANCELED, cause="system", reason="bench",
                created_at=joined + (now - joined) / 2,
            ))  # fmt: skip
        for month in range(12):
            entries.append(LedgerEntry(
                member=member, kind=LedgerEntry.Kind.MEMBERSHIP,
                method=LedgerEntry.Method.CASH if month % 2 else LedgerEntry.Method.STRIPE,
                amount_minor=10000, currency="usd", cause_type=member_type, cause_id=member.pk,
                occurred_at=now - timedelta(days=30 * month, hours=i % 24),
            ))  # fmt: skip
        grants.append(MemberCertification(
            member=member, certification=cert, granted_by=instructor,
            granted_at=now - timedelta(days=300), expires_at=now + timedelta(days=i % 120),
        ))  # fmt: skip
        if i % 20 == 0:
            requests.append(TrainingRequest(member=member, certification=cert))
    MembershipChange.objects.bulk_create(changes, batch_size=5000)
    LedgerEntry.objects.bulk_create(entries, batch_size=5000)
    MemberCertification.objects.bulk_create(grants, batch_size=5000)
    TrainingRequest.objects.bulk_create(requests, batch_size=5000)
    sessions = ClassSession.objects.bulk_create(
        [
            ClassSession(
                certification=cert, instructor=instructor, capacity=6,
                start=now - timedelta(weeks=w, hours=3), end=now - timedelta(weeks=w, hours=1),
            )
            for w in range(1, 13)
        ]
    )  # fmt: skip
    Enrollment.objects.bulk_create(
        [
            Enrollment(session=s, member=members[(w * 6 + k) % len(members)],
                       status=EnrollmentStatus.ENROLLED,
                       outcome=Outcome.PASSED if k % 3 else Outcome.FAILED)
            for w, s in enumerate(sessions)
            for k in range(6)
        ]
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
