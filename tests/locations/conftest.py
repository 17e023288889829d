"""The two demo locations, three hours apart, for the chain's tests."""

from __future__ import annotations

import pytest
import time_machine

from tests.factories.locations import LocationFactory


@pytest.fixture
def menlo(db):
    return LocationFactory(name="Menlo Park", slug="menlo-park", time_zone="America/Los_Angeles")


@pytest.fixture
def raleigh(db):
    return LocationFactory(name="Raleigh", slug="raleigh", time_zone="America/New_York")


@pytest.fixture
def travel():
    """Freeze the clock at an instant (undone after the test)."""
    travellers = []

    def _travel(now) -> None:
        traveller = time_machine.travel(now, tick=False)
        traveller.start()
        travellers.append(traveller)

    yield _travel
    for traveller in reversed(travellers):
        traveller.stop()
