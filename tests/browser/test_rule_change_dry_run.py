"""Staff change a machine's rules and see, before anything is saved, which bookings it breaks."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking, BookingState
from equipment import services as equipment_services
from equipment.selectors import opening_intervals
from membership import roles
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.membership import PASSWORD, UserFactory, ready_member

DASH = "\N{EN DASH}"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_see_the_bookings_a_change_breaks_then_confirm_it(page, log_in):
    laser = certification("Laser cutter")
    certification("Laser advanced")
    machine = MachineFactory(name="Laser cutter A", slug="laser-a", required_certification=laser)
    equipment_services.opening_hours_add(
        machine=machine,
        weekdays=list(range(7)),
        opens=time(9),
        closes=time(21),
        starting=timezone.localdate() - timedelta(days=7),
    )
    maker = ready_member(member__user__first_name="Mia", member__user__last_name="Maker")
    certify(maker, laser)
    # Next week's Tuesday and Wednesday, so neither is in the past whatever the clock says.
    today = timezone.localdate()
    tuesday = today + timedelta(days=8 - today.weekday())
    at_ten = timezone.make_aware(datetime.combine(tuesday, time(10)))
    on_tuesday = BookingFactory(machine=machine, member=maker, start=at_ten)
    on_wednesday = BookingFactory(machine=machine, member=maker, start=at_ten + timedelta(days=1))
    log_in(UserFactory(role=roles.STAFF), PASSWORD)

    # Removing Tuesday's hours lists the Tuesday booking in the panel; nothing changes yet.
    page.goto(f"/machines/{machine.slug}/edit/")
    page.get_by_role("button", name=f"Remove Tuesday 09:00{DASH}21:00").click()
    preview = page.locator("#hours-dry-run")
    preview.wait_for()
    row = preview.locator(f'tr[data-booking="{on_tuesday.pk}"]')
    assert "Mia Maker" in row.inner_text() and "Cancelled, member emailed" in row.inner_text()
    assert 1 in {i.weekday for i in opening_intervals(machine)}
    preview.get_by_role("button", name="Change the hours and cancel 1 booking").click()
    page.get_by_text("Opening hours removed.").wait_for()
    assert 1 not in {i.weekday for i in opening_intervals(machine)}
    assert Booking.objects.get(pk=on_tuesday.pk).state == BookingState.CANCELLED

    # A new certification, nobody holds it: the Wednesday booking is listed before saving.
    page.get_by_label("Certification needed").select_option(label="Laser advanced")
    page.get_by_role("button", name="Save changes").click()
    dry_run = page.get_by_role("region", name="Before you save: bookings these rules break")
    dry_run.wait_for()
    assert "Mia Maker" in dry_run.locator(f'tr[data-booking="{on_wednesday.pk}"]').inner_text()
    machine.refresh_from_db()
    assert machine.required_certification == laser
    dry_run.get_by_role("button", name="Save and cancel 1 booking").click()
    page.get_by_text("Laser cutter A saved.").wait_for()
    machine.refresh_from_db()
    assert machine.required_certification.name == "Laser advanced"
    assert Booking.objects.get(pk=on_wednesday.pk).state == BookingState.CANCELLED
