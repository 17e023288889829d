"""The demo has a metered laser, and its maker sees this month's laser time on their billing page."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from membership.models import Member


@pytest.mark.django_db
def test_the_demo_meters_laser_cutter_a_and_shows_the_makers_use(client):
    # Mid-month, so both demo sessions (the last three days) fall in this month.
    with time_machine.travel(datetime(2026, 10, 15, 12, tzinfo=timezone.get_current_timezone())):
        call_command("seed_demo", verbosity=0)
        call_command("seed_demo", verbosity=0)  # safe to run again
        maker = Member.objects.get(user__email="maker@toolgate.test")
        client.force_login(maker.user)
        page = client.get(reverse("membership_billing")).content.decode()
    start = page.index('<tr data-machine="laser-a">')
    row = page[start : page.index("</tr>", start)]
    assert "5 h 30 min" in row
    assert "<td data-included-left>4 h 30 min</td>" in row
    assert "<td data-cost>$0.00</td>" in row
