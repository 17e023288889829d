"""The staff's daily takings per payment method, and its CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from tests.factories.membership import LedgerEntryFactory


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
