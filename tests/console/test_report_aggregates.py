"""The no-shows, certification pipeline, members and money reports against hand-counted
fixtures, at the Los Angeles location, around the spring-forward change of Sunday 14 March
2027 (02:00 PST -> 03:00 PDT): a day, week or month boundary after it is at 07:00Z, not 08:00Z,
and a row half an hour either side of it lands on its own side."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.states import BookingState
from console import reports
from membership.billing.models import LedgerEntry
from tests.console.conftest import LA, member, utc
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory
from tests.factories.membership import (
    LedgerEntryFactory,
    MembershipChangeFactory,
    MembershipFactory,
)
from tests.factories.training import (
    CertificationFactory,
    ClassSessionFactory,
    EnrollmentFactory,
    MemberCertificationFactory,
    TrainingRequestFactory,
)
from training.models import Outcome

Kind, Method = LedgerEntry.Kind, LedgerEntry.Method


def test_no_shows_and_late_cancellations_per_machine_and_member(here, bookings, settings):
    settings.REPORTS_MISSED_BOOKINGS_THRESHOLD = 3
    with time_machine.travel(utc(2027, 3, 20)), timezone.override(LA):
        report = reports.attendance(weeks=1, until=date(2027, 3, 14), scope=here[2])
    assert (report.period.start, report.period.end) == (utc(2027, 3, 8, 8), utc(2027, 3, 15, 7))
    assert [(m.label, m.bookings, m.no_shows, m.late_cancellations) for m in report.machines] == [
        ("Laser", 3, 1, 1),
        ("Saw", 1, 1, 0),
    ]
    assert report.machines[0].missed_share == 67
    assert [(m.label, m.bookings, m.no_shows, m.late_cancellations, m.over_threshold)
            for m in report.members] == [("Ann", 4, 2, 1, True)]  # fmt: skip
    assert [m.label for m in report.over_threshold] == ["Ann"]
    rows = reports.attendance_csv_rows(report)
    assert ["member", "Ann", "Ann@x.org", "4", "2", "1", "75", "yes"] in rows


def test_no_shows_count_only_bookings_that_have_started(here, bookings):
    """A booking still ahead is not counted yet (nor could it be missed)."""
    with time_machine.travel(utc(2027, 3, 11, 12)), timezone.override(LA):
        report = reports.attendance(weeks=1, until=date(2027, 3, 14), scope=here[2])
    assert [(m.label, m.bookings) for m in report.machines] == [("Laser", 2), ("Saw", 0)]


def test_members_active_new_and_churned_per_month(here, memberships):
    with time_machine.travel(datetime(2027, 4, 15, 12, tzinfo=LA)), timezone.override(LA):
        report = reports.members(months=4, scope=here[2])
    assert [(f"{m.month:%b}", m.active_before, m.new, m.churned, m.active)
            for m in report.months] == [
        ("Jan", 2, 1, 0, 3),
        ("Feb", 3, 1, 0, 4),
        ("Mar", 4, 0, 1, 3),
        ("Apr", 3, 1, 0, 4),
    ]  # fmt: skip
    assert report.months[2].churn_share == 25
    assert [(p.name, p.grace_end is not None) for p in report.past_due] == [("Eve", True)]


def test_money_takings_per_local_day_and_kind_and_mrr(here, memberships):
    """Sun 14 Mar (23 hours): $100 cash membership at 00:30 PST. Mon 15 Mar: a $25 class fee
    by card at 00:30 PDT (07:30Z; 23:30 Sunday if the day were PST) and its refund at 11:00.
    Not takings: $5 out of prepaid credits; a member elsewhere's cash."""
    ann = member("Gus")
    far = member("Hal", home_location=here[1])
    for who, kind, method, amount, at in [
        (ann, Kind.MEMBERSHIP, Method.CASH, 10000, utc(2027, 3, 14, 8, 30)),
        (ann, Kind.CLASS_FEE, Method.STRIPE, 2500, utc(2027, 3, 15, 7, 30)),
        (ann, Kind.REFUND, Method.STRIPE, -2500, utc(2027, 3, 15, 18)),
        (ann, Kind.MATERIAL, Method.CREDITS, 500, utc(2027, 3, 15, 18)),
        (far, Kind.MEMBERSHIP, Method.CASH, 10000, utc(2027, 3, 14, 18)),
    ]:
        LedgerEntryFactory(
            member=who, kind=kind, method=method, amount_minor=amount, occurred_at=at
        )
    with time_machine.travel(datetime(2027, 4, 15, 12, tzinfo=LA)), timezone.override(LA):
        report = reports.money(days=3, months=4, until=date(2027, 3, 15), scope=here[2])
    (usd,) = report.takings
    assert usd.kinds == ["membership", "class_fee", "refund"]
    assert [(d.day, d.by_kind, d.total) for d in usd.days] == [
        (date(2027, 3, 13), {}, 0),
        (date(2027, 3, 14), {"membership": 10000}, 10000),
        (date(2027, 3, 15), {"class_fee": 2500, "refund": -2500}, 0),
    ]
    assert (usd.by_kind, usd.total) == (
        {"membership": 10000, "class_fee": 2500, "refund": -2500},
        10000,
    )
    # Now: Ann, Cal, Eve on $100; Dan on $50 (Fay is elsewhere; Bea cancelled).
    assert [(p.plan, p.members, p.mrr) for p in report.plans] == [
        ("Monthly membership", 3, 30000),
        ("Student", 1, 5000),
    ]
    assert report.mrr_now == {"usd": 35000}
    # At each month's end (April: now), until= names the takings' last day, not the months'.
    with time_machine.travel(datetime(2027, 4, 15, 12, tzinfo=LA)), timezone.override(LA):
        months = reports.money(days=1, months=4, scope=here[2]).months
    assert [(f"{m.month:%b}", m.mrr.get("usd")) for m in months] == [
        ("Jan", 25000), ("Feb", 35000), ("Mar", 25000), ("Apr", 35000),
    ]  # fmt: skip


def test_the_certification_pipeline(here, training):
    with time_machine.travel(datetime(2027, 3, 14, 12, tzinfo=LA)), timezone.override(LA):
        report = reports.pipeline(weeks=2, scope=here[2])
    assert [(w.name, w.certification, w.class_start is not None) for w in report.waiting] == [
        ("Ann", "Laser", False), ("Bob", "Laser", False), ("Cat", "Laser", True),
    ]  # fmt: skip
    assert [(d.certification, d.requests, d.waitlisted, d.since) for d in report.demand] == [
        ("Laser", 2, 1, utc(2027, 2, 1))
    ]
    assert [(h.certification, h.classes, h.seats, h.enrolled, h.passed, h.failed, h.absent,
             h.fill_share, h.pass_share) for h in report.held] == [
        ("Laser", 1, 4, 3, 2, 1, 0, 75, 67),
        ("Saw", 1, 2, 2, 1, 0, 1, 100, 100),
    ]  # fmt: skip


def test_certifications_expiring_within_30_60_and_90_local_days(here, training):
    """From Sun 14 Mar: 30 days is to the end of Tue 13 Apr (midnight PDT, 07:00Z 14 Apr)."""
    laser, saw, (ann, bob, cat, dee) = training
    for who, cert, expires in [
        (ann, laser, utc(2027, 4, 14, 6, 30)),  # Tue 13 Apr 23:30 PDT: within 30
        (bob, laser, utc(2027, 4, 14, 7, 30)),  # Wed 14 Apr 00:30 PDT: within 60
        (cat, saw, utc(2027, 6, 1)),  # within 90
        (dee, saw, utc(2027, 7, 1)),  # later
    ]:
        MemberCertificationFactory(member=who, certification=cert, expires_at=expires,
                                   granted_at=utc(2026, 4, 1))  # fmt: skip
    # Renewed (a later grant): the old one's expiry is no news. Revoked, expired: not counted.
    MemberCertificationFactory(member=dee, certification=laser, granted_at=utc(2026, 3, 1),
                               expires_at=utc(2027, 3, 20))  # fmt: skip
    MemberCertificationFactory(member=dee, certification=laser, granted_at=utc(2027, 3, 1))
    MemberCertificationFactory(member=cat, certification=laser, granted_at=utc(2026, 3, 1),
                               expires_at=utc(2027, 3, 20), revoked_at=utc(2027, 3, 2))  # fmt: skip
    MemberCertificationFactory(member=bob, certification=saw, granted_at=utc(2026, 3, 1),
                               expires_at=utc(2027, 3, 10))  # fmt: skip
    with time_machine.travel(datetime(2027, 3, 14, 12, tzinfo=LA)), timezone.override(LA):
        report = reports.pipeline(weeks=2, scope=here[2])
    assert [(e.certification, e.within) for e in report.expiring] == [
        ("Laser", (1, 2, 2)),
        ("Saw", (0, 0, 1)),
    ]


@pytest.mark.parametrize("size", [1, 4])
def test_the_query_count_does_not_grow_with_the_data(here, size):
    """Four times the rows, the same number of queries, for every report."""
    laser = MachineFactory(name="Laser")
    cert = CertificationFactory(name="Laser")
    for i in range(size):
        who = member(f"m{size}-{i}")
        MembershipChangeFactory(membership=MembershipFactory(member=who))
        BookingFactory(machine=laser, member=who, start=utc(2027, 3, 9, 10 + i),
                       state=BookingState.NO_SHOW)  # fmt: skip
        TrainingRequestFactory(member=who, certification=cert)
        session = ClassSessionFactory(certification=cert, start=utc(2027, 3, 6, 10 + i))
        EnrollmentFactory(session=session, member=who, outcome=Outcome.PASSED)
        MemberCertificationFactory(member=who, certification=cert, expires_at=utc(2027, 4, 1))
        LedgerEntryFactory(member=who, occurred_at=utc(2027, 3, 13, 10 + i))
    counts = []
    with time_machine.travel(datetime(2027, 3, 14, 12, tzinfo=LA)), timezone.override(LA):
        for build in (reports.attendance, reports.pipeline, reports.members, reports.money):
            with CaptureQueriesContext(connection) as queries:
                build(scope=here[2])
            counts.append(len(queries))
    assert counts == [5, 5, 4, 4]
