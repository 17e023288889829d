"""Page furniture: titles, favicon, error pages, menus per role, the sites record."""

from __future__ import annotations

import re

import pytest
from django.contrib.sites.models import Site
from django.urls import reverse

from core.sites import site_from_settings
from membership import roles
from tests.factories.membership import UserFactory, ready_member

pytestmark = pytest.mark.django_db


def _title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S)[1]


@pytest.mark.parametrize(
    ("url_name", "title"),
    [
        ("home", "Welcome"),
        ("account_login", "Log in"),
        ("account_signup", "Join"),
        ("equipment:machine_list", "Machines"),
        ("training:class_list", "Classes"),
    ],
)
def test_public_pages_have_one_title_format_and_a_favicon(client, settings, url_name, title):
    page = client.get(reverse(url_name)).content.decode()
    assert _title(page) == f"{title} · {settings.SPACE_NAME}"
    assert 'rel="icon"' in page


def test_member_pages_title(client):
    client.force_login(ready_member().user)
    page = client.get(reverse("dashboard")).content.decode()
    assert _title(page).startswith("Dashboard · ")


def test_favicon_ico_answers(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")


def test_a_404_is_styled_with_the_menus(client):
    response = client.get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404 and "Page not found" in page and 'class="topbar"' in page


def test_the_sites_record_follows_the_settings(settings):
    settings.SPACE_NAME = "Oakland Makers"
    settings.SITE_URL = "https://makers.example.org"
    site_from_settings()
    site = Site.objects.get(pk=settings.SITE_ID)
    assert (site.name, site.domain) == ("Oakland Makers", "makers.example.org")


def test_a_new_database_names_the_space_not_example_com(settings):
    """post_migrate ran when the test database was made."""
    assert Site.objects.get(pk=settings.SITE_ID).name == settings.SPACE_NAME


def test_the_current_page_is_marked_and_staff_get_a_grouped_menu(client):
    client.force_login(UserFactory(role=roles.STAFF))
    page = client.get(reverse("bookings:my_bookings")).content.decode()
    assert re.search(r'href="/bookings/"\s+aria-current="page">My bookings<', page)
    for group in ("Desk", "Machines", "Reports"):
        assert f"<strong>{group}</strong>" in page


def test_a_member_sees_no_staff_menu(client):
    client.force_login(ready_member().user)
    page = client.get(reverse("dashboard")).content.decode()
    assert "staff-menu" not in page and "Front desk" not in page


def test_visitors_see_price_hours_address_and_classes(client, settings):
    from tests.factories.membership import PlanFactory
    from tests.factories.training import ClassSessionFactory

    PlanFactory(name="Monthly", monthly_price_cents=10000, is_default=True)
    session = ClassSessionFactory()
    page = client.get(reverse("home")).content.decode()
    assert "$100.00" in page and settings.SPACE_ADDRESS in page and settings.SPACE_HOURS in page
    assert session.certification.name in page
    join = client.get(reverse("account_signup")).content.decode()
    assert join.index("$100.00") < join.index('name="email"')  # price and steps first


def test_a_machine_calendar_marks_machines_not_my_bookings(client):
    from tests.factories.equipment import MachineFactory

    machine = MachineFactory(required_certification=None)
    client.force_login(ready_member().user)
    page = client.get(reverse("bookings:machine_calendar", args=[machine.slug])).content.decode()
    assert re.search(r'aria-current="page">Machines<', page)
    assert not re.search(r'aria-current="page">My bookings<', page)
