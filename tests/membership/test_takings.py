"""The staff's daily takings per payment method, and its CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from tests.factories.locations import LocationFactory
from tests.factories.membership import LedgerEntryFactory, MembershipFactory
from tests.factories.staffing import staff_at


def test_takings_per_method_on_screen_and_as_csv(staff_client, member):
    noon = timezone.make_aware(datetime(2026, 11, 20, 12, 0))
    LedgerEntryFactory(member=member, amount_minor=10000, occurred_at=noon)
    LedgerEntryFactory(
        member=member, kind="refund", amount_minor=-2500, occurred_at=noon, memo="=HYPERLINK(x)"
    )
    LedgerEntryFactory(
        member=member, kind="material", method="stripe", amount_minor=1200, occurred_at=noon
    )
    LedgerEntryFactory(member=member, amount_minor=999, occurred_at=noon + timedelta(days=1))
    page = staff_client.get(reverse("staff_takings"), {"date": "2026-11-20"}).content.decode()
    assert "Takings on Friday 20 November 2026" in page
    assert (
        '<tr data-method="cash"><td>Cash at the desk</td><td class="num">2</td><td class="num">$75.00</td>'
        in page
    )
    assert (
        '<tr data-method="stripe"><td>Card (Stripe)</td><td class="num">1</td><td class="num">$12.00</td>'
        in page
    )
    assert "$9.99" not in page
    response = staff_client.get(reverse("staff_takings"), {"date": "2026-11-20", "format": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="takings-2026-11-20.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:8] == [
        "time",
        "member",
        "email",
        "kind",
        "method",
        "amount",
        "currency",
        "minor units",
    ]
    assert [r[5:8] for r in rows[1:]] == [
        ["100.00", "USD", "10000"],
        ["-25.00", "USD", "-2500"],
        ["12.00", "USD", "1200"],
    ]
    assert rows[2][10] == "'=HYPERLINK(x)"  # never run as a formula


def test_takings_need_the_payment_permission(member_client):
    assert member_client.get(reverse("staff_takings")).status_code == 403


def test_a_locations_day_is_on_its_own_clock_across_a_clock_change(client, db):
    """Berlin's clocks go back on 25 October 2026: its day has 25 hours, from 22:00 UTC the
    evening before to 23:00 UTC, and the space's default zone (Los Angeles) has nothing to do
    with it. Only the members whose home it is count."""
    client.force_login(staff_at())  # the head office: every location to choose from
    LocationFactory(name="Los Angeles", slug="la", time_zone="America/Los_Angeles")
    berlin = LocationFactory(name="Berlin", slug="berlin", time_zone="Europe/Berlin")
    local = MembershipFactory(member__home_location=berlin).member
    visitor = MembershipFactory().member  # at the default location
    for minor, hour, minute in [(1, 21, 30), (10, 22, 30), (100, 46, 30), (1000, 47, 10)]:
        at = datetime(2026, 10, 24, tzinfo=UTC) + timedelta(hours=hour, minutes=minute)
        LedgerEntryFactory(member=local, amount_minor=minor, occurred_at=at)
        LedgerEntryFactory(member=visitor, amount_minor=minor * 7, occurred_at=at)
    asked = {"date": "2026-10-25", "location": "berlin"}
    page = client.get(reverse("staff_takings"), asked).content.decode()
    # 00:30 CEST and 23:30 CET (the 25th hour) count; 23:30 CEST the day before and 00:10 after do not.
    assert '<td class="num">2</td><td class="num">$1.10</td>' in page
    assert "at Berlin" in page
    assert ">00:30<" in page and ">23:30<" in page
    rows = list(csv.reader(io.StringIO(client.get(
        reverse("staff_takings"), {**asked, "format": "csv"}
    ).content.decode())))  # fmt: skip
    assert [(r[0], r[7]) for r in rows[1:]] == [
        ("2026-10-25T00:30:00+02:00", "10"),
        ("2026-10-25T23:30:00+01:00", "100"),
    ]
