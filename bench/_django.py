"""Shared set-up of the benchmarks: a fresh database (never the dev or test one), Django, people."""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/postgres")
PG_NAME = os.environ.get("BENCH_PG_NAME", "toolgate_bench")
SQLITE_PATH = Path(os.environ.get("BENCH_SQLITE", "/tmp/toolgate_bench.sqlite3"))  # noqa: S108


def database_url(kind: str) -> str:
    if kind == "postgres":
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_NAME
    return f"sqlite:///{SQLITE_PATH}"


def fresh_database(kind: str) -> None:
    """Drop and recreate the benchmark database, so every run starts the same."""
    if kind == "postgres":
        import psycopg

        with psycopg.connect(
            PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{PG_NAME}"')
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)


def setup(kind: str, *, fresh: bool = True) -> None:
    """Django on the benchmark database: dropped, recreated and migrated (`fresh`), or as the last
    run left it, migrated to the code's latest (to time pages again after a change)."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url(kind)
    # DEBUG off, as in production: no query log in memory skewing the timings.
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-production")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if fresh:
        fresh_database(kind)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


UNUSABLE = "!"  # Django's marker for "no password": nobody logs in as these


def ready_members(count: int, prefix: str = "bench"):
    """`count` members allowed on machines (paid, waiver, badge), written in bulk."""
    from datetime import timedelta

    from django.utils import timezone

    from membership.models import (
        Badge,
        Member,
        Membership,
        MembershipStatus,
        Plan,
        User,
        Waiver,
        WaiverSignature,
    )

    plan, _ = Plan.objects.get_or_create(
        name="Monthly", defaults={"monthly_price_cents": 10000, "is_default": True}
    )
    waiver, _ = Waiver.objects.get_or_create(version=1, defaults={"title": "W", "text": "W"})
    users = User.objects.bulk_create(
        [User(email=f"{prefix}{i}@bench.test", password=UNUSABLE) for i in range(count)],
        batch_size=2000,
    )
    members = Member.objects.bulk_create([Member(user=u) for u in users], batch_size=2000)
    end = timezone.now() + timedelta(days=365)
    Membership.objects.bulk_create(
        [
            Membership(member=m, plan=plan, status=MembershipStatus.ACTIVE, current_period_end=end)
            for m in members
        ],
        batch_size=2000,
    )
    WaiverSignature.objects.bulk_create(
        [WaiverSignature(member=m, waiver=waiver, signed_name="x") for m in members],
        batch_size=2000,
    )
    Badge.objects.bulk_create(
        [Badge(member=m, uid=f"{0x10000000 + m.pk:08X}") for m in members], batch_size=2000
    )
    return members


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50, p95
