"""Private iCal feeds: a member's bookings and classes, a machine's bookings without names.

A member's feed URL holds a random token stored per member (resettable); a machine's feed URL holds
a signature of the machine's slug. An unknown or forged token gets a 404, never a hint.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from bookings.errors import FeedTokenInvalid
from bookings.models import ACTIVE_STATES, Booking, BookingState, CalendarFeed
from core.time import is_repeated, utc
from equipment.models import Machine
from equipment.selectors import machine_calendar_facts
from locations import zones
from membership.models import Member

_MACHINE_SALT = "bookings.machine-feed"
PAST = timedelta(days=30)
AHEAD = timedelta(days=60)


def machine_feed_token(machine: Machine) -> str:
    return signing.Signer(salt=_MACHINE_SALT).signature(machine.slug)


def machine_for_feed(slug: str, token: str) -> Machine:
    machine = Machine.objects.filter(slug=slug).first()
    if machine is None or not constant_time_compare(machine_feed_token(machine), token):
        raise FeedTokenInvalid()
    return machine


def member_for_feed(token: str) -> Member:
    feed = CalendarFeed.objects.filter(token=token).select_related("member__user").first()
    if feed is None or not token:
        raise FeedTokenInvalid()
    return feed.member


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Toolgate//bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    return calendar


def _event(uid: str, summary: str, start, end, description: str = "", *, where=None) -> Event:
    """One event; with `where` (what leads to a location), its times are written in that
    location's zone (TZID, with the zone's VTIMEZONE added by `_done`), so every calendar app shows
    the location's clock whoever subscribes. A time in the hour the clocks repeat stays in UTC: a
    local "01:00" with a TZID would not say which of the two 01:00s it is."""
    event = Event()
    event.add("uid", f"{uid}@toolgate")
    event.add("summary", summary)
    event.add("dtstart", _at(start, where))
    event.add("dtend", _at(end, where))
    event.add("dtstamp", timezone.now())
    if description:
        event.add("description", description)
    return event


def _at(instant: datetime, where) -> datetime:
    if where is None:
        return instant
    local = utc(instant).astimezone(zones.zone_of(where))
    return utc(instant) if is_repeated(local) else local


def member_feed(member: Member) -> bytes:
    """The member's bookings (last 30 days to 60 ahead) and the classes they are enrolled in."""
    now = timezone.now()
    space = getattr(settings, "SPACE_NAME", "Toolgate")
    calendar = _calendar(_("%(space)s: my bookings") % {"space": space})
    bookings = Booking.objects.filter(
        member=member,
        start__gte=now - PAST,
        start__lt=now + AHEAD,
        state__in=[*ACTIVE_STATES, BookingState.COMPLETED],
    ).select_related("machine__area", "machine__location")
    for booking in bookings:
        calendar.add_component(
            _event(
                f"booking-{booking.pk}",
                _("%(machine)s (booked)") % {"machine": booking.machine.name},
                booking.start,
                booking.end,
                str(booking.machine.area or ""),
                where=booking,
            )
        )
    for session in _enrolled_sessions(member, now):
        calendar.add_component(
            _event(
                f"class-{session.pk}",
                _("Class: %(certification)s") % {"certification": session.certification.name},
                session.start,
                session.end,
                session.place,
                where=session,
            )
        )
    return _done(calendar)


def _done(calendar: Calendar) -> bytes:
    """The feed's text, with a VTIMEZONE for each zone its events name."""
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _enrolled_sessions(member: Member, now):
    """Class sessions the member holds a seat in, when the training app records enrollments."""
    try:
        enrollment = apps.get_model("training", "Enrollment")
    except LookupError:
        return []
    session_ids = enrollment.objects.filter(member=member, status="enrolled").values("session_id")
    session = apps.get_model("training", "ClassSession")
    return session.objects.filter(
        pk__in=session_ids,
        cancelled_at__isnull=True,
        start__gte=now - PAST,
        start__lt=now + AHEAD,
    ).select_related("certification", "location")


def machine_feed(machine: Machine) -> bytes:
    """Who booked stays private: bookings show as "Booked"; maintenance and classes by name."""
    now = timezone.now()
    zone = zones.zone_of(machine)
    calendar = _calendar(_("%(machine)s bookings") % {"machine": machine.name})
    bookings = Booking.objects.filter(
        machine=machine, state__in=ACTIVE_STATES, start__gte=now - PAST, start__lt=now + AHEAD
    )
    for booking in bookings:
        calendar.add_component(
            _event(f"booking-{booking.pk}", _("Booked"), booking.start, booking.end, where=machine)
        )
    facts = machine_calendar_facts(machine, start=now - PAST, end=now + AHEAD)
    for index, (start, end, label) in enumerate(facts.blocks):
        # The uid names the local start, as it always has, so subscribed calendars keep the event.
        uid = f"block-{machine.pk}-{timezone.localtime(start, zone):%Y%m%d%H%M}-{index}"
        calendar.add_component(_event(uid, label, start, end, where=machine))
    return _done(calendar)
