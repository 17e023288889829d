"""The member's billing page shows this month's machine time and its cost as it accrues."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from metering.services import usage_charges_post

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 10, 20, 15, tzinfo=LA)


def usage_row(page: str) -> str:
    start = page.index('<tr data-machine="laser">')
    return page[start : page.index("</tr>", start)]


@pytest.mark.django_db
def test_the_billing_page_shows_included_hours_used_left_and_the_cost_so_far(
    member_client, gate_session, ten_hours
):
    gate_session(datetime(2026, 10, 5, 10, tzinfo=LA), 9)
    gate_session(NOW - timedelta(hours=2), None)  # running: it counts up to now
    gate_session(datetime(2026, 10, 6, 10, tzinfo=LA), 1, reason="allowed_instructor")
    gate_session(datetime(2026, 9, 30, 10, tzinfo=LA), 5)  # last month's

    with time_machine.travel(NOW, tick=False):
        page = member_client.get(reverse("membership_billing")).content.decode()

    row = usage_row(page)
    assert "Machine time this month" in page
    assert "running" in row
    assert "11 h 00 min" in row  # 9 h, and 2 h of the running session
    assert "+ 1 h 00 min not charged" in row  # the instructor's hour
    assert "10 h 00 min of 10 h 00 min" in row
    assert "<td data-included-left>0 min</td>" in row
    assert "60 min" in row
    assert "<td data-cost>$30.00</td>" in row  # one hour past the ten included, at 50 cents
    assert 'data-total="usd">$30.00' in page


@pytest.mark.django_db
def test_included_hours_show_before_any_use(member_client, ten_hours):
    with time_machine.travel(NOW, tick=False):
        page = member_client.get(reverse("membership_billing")).content.decode()
    row = usage_row(page)
    assert "0 min of 10 h 00 min" in row
    assert "<td data-included-left>10 h 00 min</td>" in row
    assert "<td data-cost>$0.00</td>" in row


@pytest.mark.django_db
def test_a_member_without_metered_time_sees_no_machine_time_section(member_client):
    page = member_client.get(reverse("membership_billing")).content.decode()
    assert "Machine time this month" not in page


@pytest.mark.django_db
def test_the_page_agrees_with_what_posting_the_month_charges(
    member_client, gate_session, member, ten_hours
):
    """What the page says in the month's last minute is what the ledger charges after it."""
    gate_session(datetime(2026, 10, 5, 10, tzinfo=LA), 6)
    gate_session(datetime(2026, 10, 12, 10, tzinfo=LA), 8)
    with time_machine.travel(datetime(2026, 10, 31, 23, 59, tzinfo=LA), tick=False):
        page = member_client.get(reverse("membership_billing")).content.decode()
    assert "<td data-cost>$120.00</td>" in usage_row(page)

    usage_charges_post(now=datetime(2026, 11, 1, 0, 20, tzinfo=LA))
    assert [e.amount_minor for e in member.ledger_entries.all()] == [12000]
