"""The README's gate demo works at any hour: seed, book Laser cutter A now, scan badge 04A32B1C."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from access.models import AccessSource, GateDevice
from access.policy import Reason
from access.services import access_decide
from bookings.services import booking_create
from equipment.models import Machine
from membership.models import Member

DEMO_BADGE = "04A32B1C"


@pytest.mark.parametrize("local_time", ["03:10", "13:40", "23:55"])
def test_the_demo_member_books_the_demo_laser_now_and_the_demo_badge_switches_it_on(db, local_time):
    hour, minute = map(int, local_time.split(":"))
    day = timezone.localdate() + timedelta(days=2)
    moment = datetime(
        day.year, day.month, day.day, hour, minute, tzinfo=timezone.get_current_timezone()
    )
    with time_machine.travel(moment, tick=False):
        call_command("seed_demo", verbosity=0)
        laser = Machine.objects.get(slug="laser-a")
        assert GateDevice.objects.filter(machine=laser, device_id="laser-a").exists()
        maker = Member.objects.get(user__email="maker@toolgate.test")
        running_slot = moment.replace(minute=moment.minute - moment.minute % laser.slot_minutes)
        booking = booking_create(
            member=maker,
            machine=laser,
            start=running_slot,
            end=running_slot + timedelta(minutes=laser.min_minutes),
            actor=maker.user,
        )

        decision = access_decide(badge_uid=DEMO_BADGE, machine=laser, source=AccessSource.GATE)

    assert decision.decision.reason is Reason.ALLOWED_BOOKING
    assert decision.decision.grant_end == booking.end
