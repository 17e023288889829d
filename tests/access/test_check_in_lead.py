"""One check-in lead time (BOOKING_CHECK_IN_OPENS_MINUTES): check-in, the access decision and the
offline allow-list open a booking at the same moment before its start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from access.allowlist import allowlist_build
from bookings import services
from bookings.errors import BookingRejected
from bookings.rules import Refusal
from tests.access.conftest import build_scene
from tests.factories.access import GateDeviceFactory

NOW = datetime(2026, 3, 4, 17, 0, tzinfo=UTC)


@pytest.fixture
def booked_in_an_hour(db, settings):
    settings.BOOKING_CHECK_IN_OPENS_MINUTES = 25
    with time_machine.travel(NOW, tick=False):
        scene = build_scene()
    start = NOW + timedelta(hours=1)
    booking = scene.booking
    booking.start, booking.end = start, start + timedelta(hours=1)
    booking.blocked_until = booking.end + timedelta(minutes=scene.machine.buffer_minutes)
    booking.save(update_fields=["start", "end", "blocked_until"])
    return scene


def test_the_offline_list_opens_the_booking_the_lead_time_before_its_start(booked_in_an_hour):
    device = GateDeviceFactory(machine=booked_in_an_hour.machine)
    with time_machine.travel(NOW, tick=False):
        (entry,) = allowlist_build(device).entries
    assert entry.window_start == int(
        (booked_in_an_hour.booking.start - timedelta(minutes=25)).timestamp()
    )


def test_check_in_opens_the_same_lead_time_before_the_start(booked_in_an_hour):
    booking = booked_in_an_hour.booking
    opens = booking.start - timedelta(minutes=25)
    with pytest.raises(BookingRejected) as refused:
        services.booking_check_in(booking=booking, now=opens - timedelta(seconds=1))
    assert refused.value.reason == Refusal.CHECK_IN_NOT_OPEN
    assert "25 minutes" in refused.value.message
    services.booking_check_in(booking=booking, now=opens)
