"""Factories for the bookings app's models."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from bookings.models import Booking, BookingState
from core.time import add_duration
from tests.factories.equipment import MachineFactory
from tests.factories.membership import MemberFactory


class BookingFactory(factory.django.DjangoModelFactory):
    """A booking written directly (no rules checked): for setting the scene in tests."""

    class Meta:
        model = Booking

    machine = factory.SubFactory(MachineFactory)
    member = factory.SubFactory(MemberFactory)
    start = factory.LazyFunction(lambda: timezone.now().replace(second=0, microsecond=0))
    # Real time (core.time): a local start on a daylight-saving night still gets an hour.
    end = factory.LazyAttribute(lambda o: add_duration(o.start, timedelta(hours=1)))
    blocked_until = factory.LazyAttribute(
        lambda o: add_duration(o.end, timedelta(minutes=o.machine.buffer_minutes))
    )
    state = BookingState.CONFIRMED
