"""Reads for the staff pages: the access log's filters and a member's machine time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from access.models import AccessSource
from access.selectors import (
    AccessLogFilter,
    access_log,
    member_usage_month_totals,
    member_usage_sessions,
)
from tests.factories.access import AccessEventFactory, UsageSessionFactory
from tests.factories.equipment import MachineFactory
from tests.factories.membership import ready_member


def local(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour, minute))


@pytest.fixture
def log(scene):
    """Decisions of several kinds, each named for what sets it apart."""
    other = MachineFactory(name="Drill press")
    member = scene.member
    return {
        "allowed": AccessEventFactory(
            machine=scene.machine, member=member, allowed=True, reason="allowed_booking",
            badge_uid=scene.badge_uid, at=local(2027, 3, 10),
        ),
        "other_machine": AccessEventFactory(machine=other, at=local(2027, 3, 11)),
        "web": AccessEventFactory(
            machine=scene.machine, source=AccessSource.WEB, at=local(2027, 3, 12, 23, 59)
        ),
        "offline": AccessEventFactory(
            machine=scene.machine, source=AccessSource.OFFLINE, reason="offline_not_listed",
            at=local(2027, 3, 13, 0, 1),
        ),
        "allowlist": AccessEventFactory(
            machine=scene.machine, member=member, source=AccessSource.ALLOWLIST,
            allowed=True, reason="allowed_booking", at=local(2027, 3, 14),
        ),
    }  # fmt: skip


def names(events, log) -> list[str]:
    by_pk = {event.pk: name for name, event in log.items()}
    return [by_pk[event.pk] for event in events]


@pytest.mark.parametrize(
    ("log_filter", "expected"),
    [
        (AccessLogFilter(), ["offline", "web", "other_machine", "allowed"]),
        (AccessLogFilter(source=AccessSource.ALLOWLIST), ["allowlist"]),
        (AccessLogFilter(source=AccessSource.WEB), ["web"]),
        (AccessLogFilter(allowed=True), ["allowed"]),
        (AccessLogFilter(allowed=False), ["offline", "web", "other_machine"]),
        (AccessLogFilter(since=date(2027, 3, 12), until=date(2027, 3, 12)), ["web"]),
        (AccessLogFilter(since=date(2027, 3, 13)), ["offline"]),
        (AccessLogFilter(until=date(2027, 3, 10)), ["allowed"]),
    ],
)
def test_the_access_log_filters_newest_first(log, log_filter, expected):
    assert names(access_log(log_filter), log) == expected


def test_the_access_log_filters_by_machine(log, scene):
    events = access_log(AccessLogFilter(machine=scene.machine))
    assert names(events, log) == ["offline", "web", "allowed"]


@pytest.mark.parametrize("query", ["by_name", "by_email", "by_badge"])
def test_the_access_log_finds_a_member_by_name_email_or_badge(log, scene, query):
    user = scene.member.user
    text = {
        "by_name": f"{user.first_name} {user.last_name}",
        "by_email": user.email.upper(),
        "by_badge": scene.badge_uid.lower(),
    }[query]
    assert names(access_log(AccessLogFilter(member=text)), log) == ["allowed"]
    assert not access_log(AccessLogFilter(member="nobody-like-this"))


@pytest.mark.parametrize("query", ["DEADBEEF", "de:ad:be:ef", "3735928559"])
def test_the_access_log_finds_a_badge_nobody_holds_by_its_uid(log, query):
    """Unknown badges' scans name no member: the UID itself, in any reader format, finds them
    (and only them: the member's own scans are under another UID)."""
    assert names(access_log(AccessLogFilter(member=query)), log) == [
        "offline",
        "web",
        "other_machine",
    ]
    unknown_refused = AccessLogFilter(member=query, allowed=False, machine=log["web"].machine)
    assert names(access_log(unknown_refused), log) == ["offline", "web"]


def test_a_member_search_also_finds_scans_of_their_uid_after_the_badge_is_gone(log, scene):
    """The member's UID finds their scans by member and any scan of the UID without one."""
    orphan = AccessEventFactory(badge_uid=scene.badge_uid, at=local(2027, 3, 9))
    log = {**log, "orphan": orphan}
    assert names(access_log(AccessLogFilter(member=scene.badge_uid)), log) == [
        "allowed",
        "orphan",
    ]


def test_usage_sessions_are_the_members_own(scene):
    own = UsageSessionFactory(member=scene.member)
    UsageSessionFactory(member=ready_member())
    assert list(member_usage_sessions(scene.member)) == [own]


def test_month_totals_count_this_month_per_machine_and_running_sessions_to_now(scene):
    now = local(2027, 3, 15, 18)
    drill = UsageSessionFactory(member=scene.member, device__machine=MachineFactory(name="Drill"))
    laser = UsageSessionFactory(member=scene.member, device__machine=scene.machine)
    for session, started, minutes in (
        (laser, local(2027, 3, 1, 0, 30), 45),
        (drill, local(2027, 3, 2), 90),
    ):
        session.started_at, session.ended_at = started, started + timedelta(minutes=minutes)
        session.save()
    UsageSessionFactory(
        member=scene.member, device=laser.device, started_at=now - timedelta(minutes=20),
        ended_at=None, end_reason="",
    )  # fmt: skip
    UsageSessionFactory(  # last month: not counted
        member=scene.member, device=laser.device, started_at=local(2027, 2, 28, 23)
    )
    totals = member_usage_month_totals(scene.member, now=now)
    assert [(row.machine.name, row.total) for row in totals] == [
        ("Drill", timedelta(minutes=90)),
        ("Laser cutter 1", timedelta(minutes=65)),
    ]


def test_each_machine_has_its_booking_now_and_the_next_one_within_a_day(db):
    from access.selectors import bookings_now_and_next
    from bookings.states import BookingState
    from tests.factories.bookings import BookingFactory

    now = timezone.now().replace(second=0, microsecond=0)
    laser, saw = MachineFactory(), MachineFactory()
    running = BookingFactory(
        machine=laser, start=now - timedelta(minutes=30), state=BookingState.CHECKED_IN
    )
    BookingFactory(machine=laser, start=now - timedelta(hours=2))  # over
    starting_now = BookingFactory(machine=saw, start=now)
    later = BookingFactory(machine=laser, start=now + timedelta(hours=3))
    BookingFactory(machine=laser, start=now + timedelta(hours=5))
    BookingFactory(machine=saw, start=now + timedelta(hours=24))  # a day away
    BookingFactory(machine=saw, start=now + timedelta(hours=2), state=BookingState.CANCELLED)
    current, upcoming = bookings_now_and_next(now=now)
    assert current == {laser.pk: running, saw.pk: starting_now}
    assert upcoming == {laser.pk: later}


def test_the_live_page_says_a_machine_without_a_gate_measures_no_power(client, db):
    from django.urls import reverse

    from membership import roles
    from tests.factories.bookings import BookingFactory
    from tests.factories.membership import UserFactory

    saw = MachineFactory(name="Saw")
    booking = BookingFactory(machine=saw, start=timezone.now() - timedelta(minutes=10))
    client.force_login(UserFactory(role=roles.STAFF))
    page = client.get(reverse("access:live")).content.decode()
    assert '<span class="pill">no gate</span> <span class="small muted">power not measured' in page
    assert "power off" not in page
    assert f"Booked now: <strong>{booking.member.display_name}</strong>" in page
    assert "Next: nobody in the next 24 hours" in page
