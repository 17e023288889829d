"""Staff walk Setup → New class series, fill the form on the location's clock, and see the
series listed with its classes and its history."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from membership import roles
from tests.factories.equipment import MachineFactory
from tests.factories.locations import default_location_in
from tests.factories.membership import PASSWORD, UserFactory
from tests.factories.training import CertificationFactory
from training.models import ClassSeries, ClassSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LA = ZoneInfo("America/Los_Angeles")


def test_staff_schedule_a_weekly_class_series_from_setup(page, log_in):
    location = default_location_in(LA)
    instructor = UserFactory(role=roles.INSTRUCTOR, first_name="Ida", last_name="Teach")
    CertificationFactory(name="Laser cutter", instructors=[instructor])
    MachineFactory(name="Laser", slug="laser", location=location)
    staff = UserFactory(role=roles.STAFF)
    log_in(staff, PASSWORD)

    page.goto("/staff/setup/")
    page.get_by_role("link", name="New class series").click()
    page.get_by_label("Certification").select_option(label="Laser cutter")
    page.get_by_label("Location").select_option(label=str(location))
    page.get_by_label("Instructor").select_option(label=f"Ida Teach ({instructor.email})")
    page.get_by_label("Tue").check()
    page.get_by_label("Thu").check()
    first = timezone.localdate() + timedelta(days=1)
    page.get_by_label("First date").fill(first.isoformat())
    page.get_by_label("Starts at").fill("18:30")
    page.get_by_label("Number of classes").fill("4")
    page.get_by_label("Seats").fill("5")
    page.get_by_label("Laser", exact=True).check()
    page.get_by_role("button", name="Save").click()

    page.get_by_text("Laser cutter series scheduled: 4 class(es)").wait_for()
    card = page.locator("section", has=page.get_by_role("heading", name="Class series"))
    assert "4 classes to come" in card.inner_text()
    series = ClassSeries.objects.get()
    sessions = ClassSession.objects.filter(series=series.event)
    assert sorted({timezone.localtime(s.start, LA).weekday() for s in sessions}) == [1, 3]
    assert {f"{timezone.localtime(s.start, LA):%H:%M}" for s in sessions} == {"18:30"}
    assert {s.machines.count() for s in sessions} == {1}

    card.get_by_role("link", name="Laser cutter").click()
    history = page.locator("#history-h").locator("..")
    assert "Every week on Tue, Thu at 18:30, 120 min" in history.inner_text()
