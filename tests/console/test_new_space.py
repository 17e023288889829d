"""Done when (issue 15): a staff member sets a new space up from an empty database and runs its
first day through the product's pages, never the Django admin: the location (made on first use,
named after the space), roles, a certification, a plan and its price, a waiver, a machine with
its opening hours, a class series; then a member signs, is signed off, books, and the desk sees
the booking on Today and checks the member in."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.urls import reverse

from bookings.models import Booking
from bookings.states import BookingState
from equipment.models import Machine
from locations.models import Location
from membership import roles
from membership.models import MembershipStatus, Plan, Waiver
from tests.equipment.test_staff_views import machine_data
from tests.factories.equipment import MachineFactory
from tests.factories.membership import MembershipFactory, UserFactory
from training.models import Certification, ClassSeries, ClassSession

ZONE = ZoneInfo(settings.TIME_ZONE)
# A Tuesday morning at the new space.
OPENING_DAY = datetime(2027, 3, 2, 9, 0, tzinfo=ZONE)


def _post(client, name, data, *args, **kwargs):
    response = client.post(reverse(name, args=args), {"form_token": uuid.uuid4(), **data}, **kwargs)
    assert response.status_code in (200, 302), (
        name,
        response.status_code,
        re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", response.content.decode().split("<main")[-1]))[
            :600
        ],
    )
    return response


def test_staff_set_up_a_new_space_and_run_its_first_day_without_the_admin(client, db):
    assert not Location.objects.exists() and not Machine.objects.exists()
    assert not (Plan.objects.exists() or Certification.objects.exists() or Waiver.objects.exists())
    staff = UserFactory(role=roles.STAFF, email="sam@space.test")
    teacher = UserFactory(email="ivy@space.test", first_name="Ivy")
    with time_machine.travel(OPENING_DAY, tick=False):
        client.force_login(staff)
        assert client.get(reverse("console:setup")).status_code == 200
        # Staff give the instructor role by email.
        _post(client, "console:roles", {"email": teacher.email, "role": "Instructor", "held": "1"})
        assert roles.user_has_role(teacher, roles.INSTRUCTOR)
        _post(client, "console:certification_new",
              {"name": "Laser cutter", "description": "", "validity_months": "12",
               "instructors": [teacher.pk]})  # fmt: skip
        laser_cert = Certification.objects.get()
        _post(client, "console:plan_new",
              {"name": "Monthly", "price": "100.00", "currency": "USD", "is_default": "on"})  # fmt: skip
        plan = Plan.objects.get()
        assert (plan.monthly_price_cents, plan.is_default) == (10000, True)
        _post(client, "console:waiver_publish", {"title": "Shop waiver", "text": "Eyes on."})
        assert Waiver.objects.get().version == 1
        _post(client, "equipment:machine_add",
              machine_data(MachineFactory.build(name="Laser"), slug="",
                           required_certification=laser_cert.pk))  # fmt: skip
        laser = Machine.objects.get()
        _post(client, "equipment:opening_hours_add",
              {"weekdays": list(range(7)), "opens": "09:00", "closes": "21:00"}, laser.slug)  # fmt: skip
        # The space's one location came with the first thing that needed it, in its zone.
        location = Location.objects.get()
        assert (location.name, location.time_zone) == (settings.SPACE_NAME, settings.TIME_ZONE)
        assert laser.location == location
        _post(client, "console:series_new",
              {"certification": laser_cert.pk, "location": location.pk,
               "instructor": teacher.pk, "frequency": "weekly", "weekdays": ["1"],
               "first_date": "2027-03-02", "at": "18:00", "minutes": "120", "count": "4",
               "capacity": "6", "place": "Classroom"})  # fmt: skip
        assert ClassSeries.objects.count() == 1 and ClassSession.objects.count() == 4

        # The first member (members sign up and pay themselves): signs the waiver on the page,
        # gets a badge at the desk, is signed off by the instructor, books the laser for 11:00.
        maker = MembershipFactory(
            plan=plan,
            status=MembershipStatus.ACTIVE,
            current_period_end=OPENING_DAY + timedelta(days=30),
        ).member
        client.force_login(maker.user)
        _post(client, "waiver_sign", {"signed_name": "Maker", "agree": "on"})
        client.force_login(staff)  # at the desk: the member's badge
        _post(client, "staff_badge_assign", {"uid": "04A32B1C"}, maker.pk)
        client.force_login(teacher)
        _post(client, "training:sign_off",
              {"email": maker.user.email, "certification": laser_cert.pk, "note": "Two cuts"})  # fmt: skip
        client.force_login(maker.user)
        eleven = OPENING_DAY.replace(hour=11)
        _post(client, "bookings:booking_new", {"start": eleven.isoformat(), "minutes": 60},
              laser.slug)  # fmt: skip
        booking = Booking.objects.get(member=maker)

    # The desk at 10:55: the booking is next on the laser, and tonight's class is listed.
    with time_machine.travel(OPENING_DAY.replace(hour=10, minute=55), tick=False):
        client.force_login(staff)
        today = client.get(reverse("console:today")).content.decode()
        assert "Laser" in today and maker.display_name in today
        assert "18:00" in today
        _post(client, "bookings:booking_check_in", {"next": reverse("console:today")}, booking.pk)
        booking.refresh_from_db()
        assert booking.state == BookingState.CHECKED_IN
        assert "Checked in" in client.get(reverse("console:today")).content.decode()
