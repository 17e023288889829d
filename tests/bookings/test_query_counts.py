"""The pages a member touches ask the database the same few questions however full the week is:
no query per cell of the grid, per booking of the dashboard or per event of a feed (issue 18).

Each test counts one request on a quiet week, fills the week with other members' bookings and the
member's own bookings on other machines, and pins the second count to the first. The ceilings
beside them are the counts of 2026-12-03 (after the grid, the booking answer and the member reads
were shared, issue 18), so a page that starts asking more fails here.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings import feeds, services
from membership import roles
from tests.bookings.conftest import at
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.membership import UserFactory, ready_member

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def maker_client(client, maker):
    client.force_login(maker.user)
    return client


def fill_the_week(maker, laser, *, others: int = 12, mine: int = 6) -> None:
    """`others` members' bookings on the laser, and `mine` of the maker's on other machines."""
    for n in range(others):
        BookingFactory(
            machine=laser,
            member=ready_member(),
            start=at(n % 7, 9 + n // 7 * 2),
            end=at(n % 7, 10 + n // 7 * 2),
        )
    for n in range(mine):
        machine = MachineFactory(required_certification=certification(f"Tool {n}"))
        certify(maker, machine.required_certification)
        BookingFactory(machine=machine, member=maker, start=at(n % 7, 15), end=at(n % 7, 16))


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code in (200, 302), response.status_code
    return len(captured)


def grid(client, laser):
    url = reverse("bookings:week_grid", args=[laser.slug]) + f"?week={at(0, 0).date()}"
    return client.get(url, headers=HTMX)


@pytest.mark.parametrize("viewer", ["member", "staff"])
def test_the_week_grid_asks_no_query_per_cell_or_booking(
    client, maker, laser, viewer, django_assert_max_num_queries
):
    """Staff see every booker's name: still no query per booking."""
    client.force_login(maker.user if viewer == "member" else UserFactory(role=roles.STAFF))
    grid(client, laser)  # session and permissions warmed
    quiet = queries(lambda: grid(client, laser))
    fill_the_week(maker, laser)
    with django_assert_max_num_queries(quiet):
        page = grid(client, laser)
    assert page.content.decode().count('data-status="taken"') >= 12
    with django_assert_max_num_queries({"member": 18, "staff": 17}[viewer]):
        grid(client, laser)


def test_the_week_grid_takes_no_write_lock(maker_client, laser):
    """A read enters no transaction: on SQLite (`transaction_mode` IMMEDIATE) each one would take
    the write lock, and pages would queue behind bookings. Inside the test's own transaction an
    atomic block shows as a savepoint."""
    grid(maker_client, laser)
    with CaptureQueriesContext(connection) as captured:
        grid(maker_client, laser)
    assert not [q["sql"] for q in captured if "SAVEPOINT" in q["sql"] or "BEGIN" in q["sql"]]


def test_the_dashboard_asks_no_query_per_booking(
    maker_client, maker, laser, django_assert_max_num_queries
):
    url = reverse("dashboard")
    maker_client.get(url)
    BookingFactory(machine=laser, member=maker, start=at(1, 10), end=at(1, 11))
    quiet = queries(lambda: maker_client.get(url))
    fill_the_week(maker, laser)
    with django_assert_max_num_queries(quiet):
        maker_client.get(url)
    with django_assert_max_num_queries(21):
        maker_client.get(url)


@pytest.mark.parametrize("which", ["member", "machine"])
def test_the_ical_feeds_ask_no_query_per_event(
    client, maker, laser, which, django_assert_max_num_queries
):
    if which == "member":
        url = reverse("bookings:member_feed", args=[services.calendar_feed_for(maker).token])
    else:
        url = reverse("bookings:machine_feed", args=[laser.slug, feeds.machine_feed_token(laser)])
    BookingFactory(machine=laser, member=maker, start=at(1, 10), end=at(1, 11))
    quiet = queries(lambda: client.get(url))
    fill_the_week(maker, laser)
    for n in range(6):  # the maker's own, on the laser: events of both feeds
        BookingFactory(machine=laser, member=maker, start=at(n, 19), end=at(n, 20))
    with django_assert_max_num_queries(quiet):
        body = client.get(url).content.decode()
    assert body.count("BEGIN:VEVENT") >= 7
    with django_assert_max_num_queries({"member": 3, "machine": 6}[which]):
        client.get(url)


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_booking_asks_no_query_per_booking_of_the_week(
    maker_client, maker, laser, htmx, django_assert_max_num_queries
):
    """The htmx answer sends the booking's cells out of band; the plain form redirects."""
    url = reverse("bookings:booking_new", args=[laser.slug])

    def book(day: int):
        data = {"start": at(day, 18).isoformat(), "minutes": 60, "form_token": uuid.uuid4()}
        response = maker_client.post(url, data, headers=HTMX if htmx else {})
        assert response.status_code == (200 if htmx else 302)
        if htmx:
            assert "Booked Laser cutter" in response.content.decode()
        return response

    grid(maker_client, laser)  # session and permissions warmed
    quiet = queries(lambda: book(1))
    fill_the_week(maker, laser)
    with django_assert_max_num_queries(quiet):
        book(2)
    with django_assert_max_num_queries(38 if htmx else 32):
        book(3)
