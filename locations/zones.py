"""Times read in the zone of the location they happen at, whoever reads them; storage stays UTC.

One mechanism, Django's current time zone, set to the location's:
- `at(thing)`, a context manager, and `in_zone_of("machine")`, a decorator naming the argument,
  around business rules that read wall clocks (opening hours, day and week boundaries, a class
  series' recurrence): everything inside that calls `timezone.get_current_timezone()`,
  `localtime` or `localdate` computes in the location's zone.
- `activate(thing)` in a view about one location's machine, class or gate: the page renders in
  that zone; `ZoneResetMiddleware` puts the default back after every request.
- The `local` template filter (`{% load locations %}`, `{{ booking.start|local:booking|date }}`)
  for lists whose rows happen at different locations (a member's bookings, the access log).

`thing` is a Location or anything that leads to one: a machine, a booking, a class session or
series, a gate device, an access event (by `.location`, `.machine`, `.session` or `.device`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from django.utils import timezone

from locations.models import Location

# How to get from a thing to where it happens, tried in order.
_PATHS = ("location", "machine", "session", "device")

P = ParamSpec("P")
R = TypeVar("R")


def zone_of(thing: Any) -> ZoneInfo:
    """The time zone of the location `thing` happens at."""
    for _ in range(4):  # device -> machine -> location at most
        if isinstance(thing, Location):
            return thing.zone
        for path in _PATHS:
            following = getattr(thing, path, None)
            if following is not None:
                thing = following
                break
        else:
            break
    raise TypeError(f"{thing!r} names no location")


@contextmanager
def at(thing: Any) -> Iterator[ZoneInfo]:
    """Inside: the current time zone is that of `thing`'s location."""
    zone = zone_of(thing)
    with timezone.override(zone):
        yield zone


def in_zone_of(parameter: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated function in the zone of its argument `parameter` (a machine, a session)."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if parameter in kwargs:
                thing = kwargs[parameter]
            else:
                thing = signature.bind_partial(*args, **kwargs).arguments[parameter]
            with at(thing):
                return function(*args, **kwargs)

        return wrapper

    return decorate


def activate(thing: Any) -> ZoneInfo:
    """For the rest of this request (or task): times are in `thing`'s location's zone."""
    zone = zone_of(thing)
    timezone.activate(zone)
    return zone


class ZoneResetMiddleware:
    """Each request starts in the default zone (TIME_ZONE) and leaves no zone behind for the next
    request this thread serves: a view that `activate`d a location's zone affects only itself."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
