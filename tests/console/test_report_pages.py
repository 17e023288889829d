"""The report pages: a chart with its table and a CSV each, a fixed number of queries, and
only the viewer's locations (another location's staff see their own, whatever they ask)."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.urls import reverse

from membership import roles
from tests.console.conftest import LA, member
from tests.factories.membership import LedgerEntryFactory, UserFactory
from tests.factories.staffing import staff_at

NOW = datetime(2027, 3, 14, 12, tzinfo=LA)
PAGES = [
    ("console:report_no_shows", 2, "Ann"),
    ("console:report_certifications", 3, "Laser"),
    ("console:report_members", 2, "Eve"),
    ("console:report_money", 1, "MRR"),
]


@pytest.fixture
def scene(bookings, memberships, training):
    """Everything the reports count, at once."""


@pytest.mark.parametrize(("name", "charts", "shown"), PAGES)
def test_each_page_has_charts_tables_and_a_csv_in_a_fixed_number_of_queries(
    client, scene, name, charts, shown, django_assert_max_num_queries
):
    url = reverse(name)
    with time_machine.travel(NOW):
        client.force_login(UserFactory(role=roles.STAFF))
        client.get(url)
        with django_assert_max_num_queries(16):
            response = client.get(url)
        csv = client.get(url + "?format=csv")
    page = response.content.decode()
    assert page.count('<svg class="chart') >= charts
    assert shown in page
    assert "<table" in page and "Download CSV" in page
    assert csv["Content-Type"].startswith("text/csv")
    assert csv["Content-Disposition"].startswith("attachment;")
    assert len(csv.content.decode().splitlines()) > 1


def test_the_money_page_links_each_day_to_its_takings(client, scene):
    LedgerEntryFactory(member=member("Ann"), occurred_at=datetime(2027, 3, 14, 9, tzinfo=LA))
    with time_machine.travel(NOW):
        client.force_login(UserFactory(role=roles.STAFF))
        page = client.get(reverse("console:report_money") + "?days=2").content.decode()
    assert f'<a href="{reverse("staff_takings")}?date=2027-03-14">Sun 14 Mar</a>' in page
    assert "<title>Sun 14 Mar, Takings: 100.00 USD</title>" in page
    assert "Takings (USD): $100.00" in page


def test_another_locations_staff_see_only_their_own(client, here, bookings):
    """Staff of Elsewhere see Elsewhere's drill and its no-show, not Laser or Saw; asking for
    the home location changes nothing."""
    home, elsewhere, _ = here
    url = reverse("console:report_no_shows")
    with time_machine.travel(datetime(2027, 3, 20, tzinfo=LA)):
        client.force_login(staff_at(elsewhere))
        for query in ("?weeks=2", f"?weeks=2&location={home.slug}"):
            response = client.get(url + query)
            assert response.status_code == 200, response
            page = response.content.decode()
            assert '<th scope="row" class="wrap-anywhere">Drill</th>' in page
            assert "Laser" not in page and "Saw" not in page
            csv = client.get(url + query + "&format=csv").content.decode()
            assert "machine,Drill," in csv and "Laser" not in csv


def test_staff_of_two_locations_choose_which(client, here, bookings):
    home, elsewhere, _ = here
    url = reverse("console:report_no_shows") + "?weeks=2"
    with time_machine.travel(datetime(2027, 3, 20, tzinfo=LA)):
        client.force_login(staff_at(home, elsewhere))
        first = client.get(url).content.decode()
        other = client.get(url + f"&location={elsewhere.slug}").content.decode()
    assert '<select id="location" name="location">' in first
    assert "Elsewhere" in first and ">Laser<" in first and ">Drill<" not in first
    assert ">Drill<" in other and ">Laser<" not in other
    assert f"location={elsewhere.slug}&amp;format=csv" in other


def test_the_no_show_page_lists_every_member_who_missed_with_names_escaped(client, here, bookings):
    """The members' rows are written without the template language (thousands in a big
    space): a name is still text, never markup, and those over the threshold are flagged."""
    from bookings.states import BookingState
    from tests.factories.bookings import BookingFactory
    from tests.factories.equipment import MachineFactory
    from tests.factories.membership import MemberFactory

    zed = MemberFactory(user=UserFactory(first_name="<b>Zed</b>", last_name="", email="z@x.org"))
    BookingFactory(machine=MachineFactory(name="Lathe"), member=zed, state=BookingState.NO_SHOW,
                   start=datetime(2027, 3, 12, 9, tzinfo=LA))  # fmt: skip
    with time_machine.travel(datetime(2027, 3, 20, tzinfo=LA)):
        client.force_login(UserFactory(role=roles.STAFF))
        page = client.get(reverse("console:report_no_shows") + "?weeks=2").content.decode()
    assert "<b>Zed</b>" not in page
    assert '<th scope="row" class="wrap-anywhere">&lt;b&gt;Zed&lt;/b&gt;</th>' in page
    assert "<li><strong>&lt;b&gt;Zed&lt;/b&gt;</strong> (z@x.org): 1 no-show, 0 late" not in page
    assert '>Ann <span class="pill late">Over threshold</span></th>' in page
    assert (
        "<li><strong>Ann</strong> (Ann@x.org): 2 no-shows, 1 late cancellation of 4 bookings"
        in page
    )
