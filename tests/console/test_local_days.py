"""Today and the money report count the location's local day, not the server's: with the server
in Kiritimati (UTC+14) and the space in Los Angeles, across the spring-forward change of Sunday
14 March 2027 (a 23-hour day), a takings row or a booking at 23:30 on the wall clock belongs to
that local day."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
import time_machine
from django.urls import reverse

from membership import roles
from tests.console.conftest import LA, member
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory
from tests.factories.membership import LedgerEntryFactory, UserFactory


@pytest.fixture
def server_in_kiritimati(settings):
    settings.TIME_ZONE = "Pacific/Kiritimati"


@pytest.fixture
def staff(client, here, server_in_kiritimati):
    """Logged in when the test travels (a session made today would have expired by 2027)."""
    user = UserFactory(role=roles.STAFF)

    def log_in():
        client.force_login(user)
        return client

    return log_in


def test_todays_bookings_are_the_locations_day(staff):
    """Sunday 22:00 PDT (Monday 19:00 in Kiritimati): Ann's 23:30 booking is next today; Bob's
    at 00:30 on Monday is tomorrow's, though both fall on the server's Monday."""
    laser, saw = MachineFactory(name="Laser"), MachineFactory(name="Saw")
    BookingFactory(
        machine=laser, member=member("Ann"), start=datetime(2027, 3, 14, 23, 30, tzinfo=LA)
    )
    BookingFactory(machine=saw, member=member("Bob"), start=datetime(2027, 3, 15, 0, 30, tzinfo=LA))
    with time_machine.travel(datetime(2027, 3, 14, 22, tzinfo=LA), tick=False):
        staff = staff()
        response = staff.get(reverse("console:today"))
        assert response.status_code == 200, (response.status_code, response.get("Location"))
        page = response.content.decode()
        partial = staff.get(reverse("console:today"), headers={"HX-Request": "true"})
    assert "Sunday 14 March" in page
    for body in (page, partial.content.decode()):
        assert "Ann" in body and "23:30" in body
        assert "Bob" not in body


def test_takings_at_half_past_eleven_belong_to_the_locations_day(staff):
    """Sat 13 Mar 23:30 PST (07:30Z on the 14th), Sun 14 Mar 23:30 PDT (06:30Z on the 15th) and
    Mon 15 Mar 00:30 PDT (07:30Z): one on each local day, in the CSV and on the page."""
    ann = member("Ann")
    for amount, at in [
        (1000, datetime(2027, 3, 13, 23, 30, tzinfo=LA)),
        (2000, datetime(2027, 3, 14, 23, 30, tzinfo=LA)),
        (4000, datetime(2027, 3, 15, 0, 30, tzinfo=LA)),
    ]:
        LedgerEntryFactory(member=ann, amount_minor=amount, occurred_at=at)
    url = reverse("console:report_money") + "?days=3"
    with time_machine.travel(datetime(2027, 3, 15, 12, tzinfo=LA), tick=False):
        staff = staff()
        rows = list(csv.reader(io.StringIO(staff.get(url + "&format=csv").content.decode())))
        page = staff.get(url).content.decode()
    assert [(r[1], r[4]) for r in rows if r[0] == "takings"] == [
        ("2027-03-13", "1000"),
        ("2027-03-14", "2000"),
        ("2027-03-15", "4000"),
    ]
    assert "<title>Sun 14 Mar, Takings: 20.00 USD</title>" in page
