"""Staff change a machine's rules on its edit page: first the bookings the change breaks are
listed (nothing saved), then a confirm saves it and cancels what was listed as cancelled."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core import mail
from django.urls import reverse

from bookings import services
from bookings.models import Booking, BookingState
from equipment.models import Machine, MachineEvent
from equipment.selectors import opening_intervals
from tests.bookings.conftest import at
from tests.equipment.test_admin import NO_INLINE_ROWS
from tests.equipment.test_staff_views import machine_data
from tests.factories.equipment import certification
from tests.factories.locations import LocationFactory
from tests.factories.staffing import staff_at


@pytest.fixture
def booking(maker, laser):
    made = services.booking_create(member=maker, machine=laser, start=at(1, 10), end=at(1, 11))
    mail.outbox.clear()
    return made


@pytest.fixture
def advanced(laser):
    return certification("Laser advanced")


def edit(client, laser, **changes):
    # The page as sent, with the machine's own certification unless changed.
    data = machine_data(
        laser, **{"required_certification": laser.required_certification_id, **changes}
    )
    return client.post(reverse("equipment:machine_edit", args=[laser.slug]), data)


def digest(page: str) -> str:
    found = re.search(r'name="confirm" value="([0-9a-f]+)"', page)
    assert found, "the page offers no confirm button"
    return found.group(1)


def test_the_preview_lists_the_bookings_and_changes_nothing(
    laser, booking, maker, advanced, staff_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = edit(staff_client, laser, required_certification=advanced.pk)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Before you save: bookings these rules break" in page
    row = re.search(rf'<tr data-booking="{booking.pk}">(.*?)</tr>', page, re.S).group(1)
    assert maker.display_name in row and "Cancelled, member emailed" in row
    assert "now needs the Laser advanced certification" in row
    assert "Save and cancel 1 booking<" in page
    # The form keeps what was typed, to be confirmed as it is.
    assert f'<option value="{advanced.pk}" selected>' in page
    laser.refresh_from_db()
    assert laser.required_certification.name == "Laser cutter"
    assert Booking.objects.get(pk=booking.pk).state == BookingState.CONFIRMED
    assert mail.outbox == []


def test_confirming_saves_and_cancels_with_an_email(
    laser, booking, maker, advanced, staff_client, django_capture_on_commit_callbacks
):
    preview = edit(staff_client, laser, required_certification=advanced.pk).content.decode()
    token = re.search(r'name="form_token" value="([0-9a-f-]+)"', preview).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = edit(
            staff_client,
            laser,
            required_certification=advanced.pk,
            form_token=token,
            confirm=digest(preview),
        )
    assert response.status_code == 302
    laser.refresh_from_db()
    assert laser.required_certification == advanced
    assert Booking.objects.get(pk=booking.pk).state == BookingState.CANCELLED
    assert [message.to for message in mail.outbox] == [[maker.user.email]]
    page = staff_client.get(response["Location"]).content.decode()
    assert "Laser cutter saved. The bookings listed were dealt with as shown" in page


def test_a_confirm_after_the_bookings_changed_shows_the_new_list(
    laser, booking, maker, advanced, staff_client
):
    preview = edit(staff_client, laser, required_certification=advanced.pk).content.decode()
    later = services.booking_create(member=maker, machine=laser, start=at(2, 10), end=at(2, 11))
    response = edit(
        staff_client, laser, required_certification=advanced.pk, confirm=digest(preview)
    )
    assert response.status_code == 200
    assert f'data-booking="{later.pk}"' in response.content.decode()
    laser.refresh_from_db()
    assert laser.required_certification.name == "Laser cutter"


def test_removing_hours_in_the_panel_lists_then_cancels(laser, booking, staff_client):
    tuesday = next(i for i in opening_intervals(laser) if i.weekday == 1)
    url = reverse("equipment:opening_hours_remove", args=[laser.slug])
    data = {"form_token": str(uuid.uuid4()), "opening_id": tuesday.opening_id, "weekday": 1}
    htmx = {"HX-Request": "true"}
    panel = staff_client.post(url, data, headers=htmx).content.decode()
    assert panel.startswith('<div id="opening-hours">')
    assert (
        "Removing Tuesday 09:00\N{EN DASH}21:00: bookings it breaks" in panel
        and f'data-booking="{booking.pk}"' in panel
    )
    # The confirm form sends the same change again, without ids that clash with the add form.
    assert f'<input type="hidden" name="opening_id" value="{tuesday.opening_id}">' in panel
    assert 1 in {i.weekday for i in opening_intervals(laser)}
    done = staff_client.post(url, {**data, "confirm": digest(panel)}, headers=htmx)
    assert "Opening hours removed." in done.content.decode()
    assert 1 not in {i.weekday for i in opening_intervals(laser)}
    assert Booking.objects.get(pk=booking.pk).state == BookingState.CANCELLED


def test_without_javascript_the_hours_preview_is_the_edit_page(laser, booking, staff_client):
    tuesday = next(i for i in opening_intervals(laser) if i.weekday == 1)
    response = staff_client.post(
        reverse("equipment:opening_hours_remove", args=[laser.slug]),
        {"form_token": str(uuid.uuid4()), "opening_id": tuesday.opening_id, "weekday": 1},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "<h1>Edit Laser cutter</h1>" in page
    assert "Removing Tuesday 09:00\N{EN DASH}21:00: bookings it breaks" in page
    assert 1 in {i.weekday for i in opening_intervals(laser)}


def test_staff_of_another_location_get_403_and_change_nothing(laser, booking, advanced, client):
    client.force_login(staff_at(LocationFactory(name="Raleigh", slug="raleigh")))
    response = edit(client, laser, required_certification=advanced.pk, confirm="x")
    assert response.status_code == 403
    tuesday = next(i for i in opening_intervals(laser) if i.weekday == 1)
    response = client.post(
        reverse("equipment:opening_hours_remove", args=[laser.slug]),
        {"form_token": str(uuid.uuid4()), "opening_id": tuesday.opening_id, "weekday": 1},
    )
    assert response.status_code == 403
    assert Machine.objects.get(pk=laser.pk).required_certification.name == "Laser cutter"
    assert 1 in {i.weekday for i in opening_intervals(laser)}
    assert Booking.objects.get(pk=booking.pk).state == BookingState.CONFIRMED


def test_the_admin_sends_a_change_that_breaks_bookings_to_the_edit_page(
    laser, booking, advanced, admin_client
):
    """The admin cannot show the list, so it saves nothing and names the page that does."""
    data = {
        **machine_data(laser, required_certification=advanced.pk),
        "maintainers": [],
        **NO_INLINE_ROWS,
    }
    del data["form_token"]
    response = admin_client.post(reverse("admin:equipment_machine_change", args=[laser.pk]), data)
    assert response.status_code == 200
    assert "affects 1 booking(s) to come" in response.content.decode()
    assert Machine.objects.get(pk=laser.pk).required_certification.name == "Laser cutter"
    assert Booking.objects.get(pk=booking.pk).state == BookingState.CONFIRMED


def test_the_first_hours_name_themselves_and_the_bookings_outside_them(laser, maker, staff_client):
    MachineEvent.objects.filter(machine=laser).delete()  # open at any time
    evening = services.booking_create(member=maker, machine=laser, start=at(1, 19), end=at(1, 20))
    panel = staff_client.post(
        reverse("equipment:opening_hours_add", args=[laser.slug]),
        {"form_token": str(uuid.uuid4()), "weekdays": [0, 1], "opens": "09:00", "closes": "18:00"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Opening Monday and Tuesday 09:00\N{EN DASH}18:00: bookings it breaks" in panel
    assert f'data-booking="{evening.pk}"' in panel
    assert not MachineEvent.objects.filter(machine=laser).exists()
