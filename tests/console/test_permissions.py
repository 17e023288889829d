"""Every staff console page, and the problem report list, is refused to members and
instructors (403), whether read or posted to."""

from __future__ import annotations

import pytest
from django.urls import reverse

from membership import roles
from tests.factories.membership import PlanFactory, UserFactory
from tests.factories.training import CertificationFactory, ClassSeriesFactory

PAGES = [
    ("console:today", None),
    ("console:setup", None),
    ("console:certification_new", None),
    ("console:certification_edit", "certification"),
    ("console:plan_new", None),
    ("console:plan_edit", "plan"),
    ("console:waiver_publish", None),
    ("console:roles", None),
    ("console:series_new", None),
    ("console:series_edit", "series"),
    ("staff_takings", None),
    ("equipment:problem_list", None),
    ("console:reports", None),
    ("console:utilization", None),
    ("console:report_no_shows", None),
    ("console:report_certifications", None),
    ("console:report_members", None),
    ("console:report_money", None),
]
REPORTS = {
    "console:utilization",
    "console:report_no_shows",
    "console:report_certifications",
    "console:report_members",
    "console:report_money",
    "staff_takings",
}


@pytest.fixture
def subjects(db):
    return {
        "certification": CertificationFactory().pk,
        "plan": PlanFactory().pk,
        "series": ClassSeriesFactory().pk,
    }


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INSTRUCTOR])
@pytest.mark.parametrize(("name", "arg"), PAGES)
def test_members_and_instructors_get_403(client, subjects, role, name, arg):
    client.force_login(UserFactory(role=role))
    url = reverse(name, args=[subjects[arg]] if arg else [])
    assert client.get(url).status_code == 403
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 403
    if name in REPORTS:
        assert client.get(url + "?format=csv").status_code == 403
    elif name not in ("console:today", "console:setup", "console:reports"):
        assert client.post(url, {"name": "X"}).status_code in (403, 405)


@pytest.mark.parametrize(("name", "arg"), PAGES)
def test_staff_may_open_every_page(client, subjects, name, arg):
    client.force_login(UserFactory(role=roles.STAFF))
    url = reverse(name, args=[subjects[arg]] if arg else [])
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(("name", "arg"), PAGES)
def test_visitors_are_sent_to_log_in(client, subjects, name, arg):
    url = reverse(name, args=[subjects[arg]] if arg else [])
    assert client.get(url).status_code == 302
