"""Every time a person reads is in the zone of the location it happens at, whoever reads it.

The site runs with TIME_ZONE America/Los_Angeles (the readers below sit there); Raleigh is in
America/New_York. Both change clocks on 14 March 2027 (spring forward) and 7 November 2027 (fall
back), three hours apart: the tests would pass in the wrong zone only by accident of no test.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from access import export
from access.gates import gate_extend_booking
from access.models import AccessEvent
from bookings import feeds, selectors, services
from bookings.errors import BookingRejected
from core.time import add_duration, utc
from equipment import selectors as equipment_selectors
from equipment import services as equipment_services
from locations import zones
from locations.templatetags.locations import local
from membership import roles
from tests.factories.access import AccessEventFactory, GateDeviceFactory
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory
from tests.factories.locations import AreaFactory
from tests.factories.membership import UserFactory, ready_member
from tests.factories.staffing import staff_at
from tests.factories.training import CertificationFactory
from training import scheduling
from training.models import ClassSession

LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")
SPRING = date(2027, 3, 14)
FALL = date(2027, 11, 7)


def ny(day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NY).replace(fold=fold)


@pytest.fixture
def ny_laser(raleigh):
    """Open 09:00-21:00 every day, on Raleigh's clock (set by a reader in Los Angeles)."""
    machine = MachineFactory(
        name="Raleigh laser",
        slug="raleigh-laser",
        location=raleigh,
        required_certification=None,
        weekly_hours_per_member=0,
        daily_bookings_per_member=1,
        max_minutes=180,
    )
    with timezone.override(LA):
        equipment_services.opening_hours_add(
            machine=machine,
            weekdays=list(range(7)),
            opens=time(9),
            closes=time(21),
            starting=date(2027, 1, 4),
        )
    return machine


# --- The mechanism -------------------------------------------------------------------------------


def test_zone_of_follows_what_leads_to_a_location(ny_laser, raleigh):
    booking = BookingFactory(machine=ny_laser)
    device = GateDeviceFactory(machine=ny_laser)
    event = AccessEventFactory(machine=ny_laser, device=device)
    for thing in (raleigh, ny_laser, booking, device, event):
        assert zones.zone_of(thing) == NY


def test_zone_of_refuses_what_names_no_location():
    with pytest.raises(TypeError, match="names no location"):
        zones.zone_of(object())


def test_at_sets_the_current_zone_inside_only(raleigh):
    with zones.at(raleigh) as zone:
        assert zone == NY == timezone.get_current_timezone()
    assert timezone.get_current_timezone() == LA


def test_in_zone_of_reads_the_argument_by_name_or_position(raleigh):
    @zones.in_zone_of("where")
    def current(where, other=None):
        return timezone.get_current_timezone()

    assert current(raleigh) == current(where=raleigh) == NY
    assert timezone.get_current_timezone() == LA


def test_the_local_filter_converts_without_a_second_conversion(raleigh):
    instant = ny(FALL, 1, 30, fold=1)  # the second 01:30, EST
    shown = local(instant, raleigh)
    assert (shown.hour, shown.minute, shown.tzname()) == (1, 30, "EST")
    assert shown.convert_to_local_time is False
    assert local(None, raleigh) is None


def test_a_request_leaves_no_zone_behind(client, ny_laser):
    client.force_login(UserFactory())
    client.get(reverse("equipment:machine_detail", args=[ny_laser.slug]))
    assert timezone.get_current_timezone() == LA


# --- Booking rules compute on the machine's clock ----------------------------------------------


@pytest.mark.parametrize("day", [SPRING, FALL], ids=["spring", "fall"])
def test_opening_hours_follow_the_locations_clock_across_the_change(ny_laser, day):
    """09:00-21:00 in Raleigh is 06:00-18:00 in Los Angeles, on the change day too."""
    start, end = ny(day, 0), ny(day + timedelta(days=1), 0)
    facts = equipment_selectors.machine_calendar_facts(ny_laser, start=start, end=end)
    assert facts.opening == [(utc(ny(day, 9)), utc(ny(day, 21)))]
    assert [(i.opens, i.closes) for i in equipment_selectors.opening_intervals(ny_laser)][:1] == [
        (time(9), time(21))
    ]


def test_a_booking_at_20_00_raleigh_is_open_though_it_is_17_00_in_los_angeles(ny_laser, travel):
    travel(ny(SPRING, 12) - timedelta(days=3))
    member = ready_member()
    booking = services.booking_create(
        member=member, machine=ny_laser, start=ny(SPRING, 20), end=ny(SPRING, 21)
    )
    assert booking.start == ny(SPRING, 20)
    with pytest.raises(BookingRejected, match="open"):
        services.booking_create(
            member=ready_member(), machine=ny_laser, start=ny(SPRING, 21), end=ny(SPRING, 22)
        )


def test_the_daily_limit_counts_the_locations_day(ny_laser, travel):
    """22:30 in Los Angeles on the 13th is already the 14th in Raleigh: one booking a day there."""
    travel(ny(SPRING, 12) - timedelta(days=3))
    member = ready_member()
    services.booking_create(
        member=member, machine=ny_laser, start=ny(SPRING, 9), end=ny(SPRING, 10)
    )
    with pytest.raises(BookingRejected):
        services.booking_create(
            member=member, machine=ny_laser, start=ny(SPRING, 19), end=ny(SPRING, 20)
        )
    # 13 March 20:00 in Raleigh is another Raleigh day, though the same day in Los Angeles.
    services.booking_create(
        member=member,
        machine=ny_laser,
        start=ny(SPRING - timedelta(days=1), 20),
        end=ny(SPRING - timedelta(days=1), 21),
    )


def test_the_week_grid_is_on_the_locations_clock_with_the_repeated_hour(raleigh, travel):
    """Read from Los Angeles: the fall-back Sunday has Raleigh's 01:00 EDT and 01:00 EST rows."""
    night = MachineFactory(location=raleigh, required_certification=None)
    travel(ny(FALL, 12) - timedelta(days=4))
    grid = selectors.week_grid(machine=night, monday=date(2027, 11, 1), member=None)
    labels = [row.label for row in grid.rows]
    assert labels[:6] == ["00:00", "00:30", "01:00 EDT", "01:30 EDT", "01:00 EST", "01:30 EST"]
    assert grid.days[0].cells[0].start == ny(date(2027, 11, 1), 0)
    assert timezone.get_current_timezone() == LA


def test_the_week_starts_on_the_locations_monday(raleigh, travel):
    """Monday 00:30 in Raleigh is still Sunday in Los Angeles; the weekly quota counts Raleigh's."""
    machine = MachineFactory(
        location=raleigh, required_certification=None, weekly_hours_per_member=1
    )
    travel(ny(date(2027, 11, 3), 12))
    member = ready_member()
    monday = date(2027, 11, 8)
    services.booking_create(
        member=member, machine=machine, start=ny(monday, 0, 30), end=ny(monday, 1, 30)
    )
    # Sunday 23:00 Raleigh is the week before: still within its quota.
    services.booking_create(
        member=member,
        machine=machine,
        start=ny(monday - timedelta(days=1), 22),
        end=ny(monday - timedelta(days=1), 23),
    )
    with pytest.raises(BookingRejected):
        services.booking_create(
            member=member, machine=machine, start=ny(monday, 10), end=ny(monday, 11)
        )


# --- What people read ---------------------------------------------------------------------------


def _page(client, url) -> str:
    return client.get(url).content.decode()


def test_the_machine_page_and_grid_show_raleighs_clock(client, ny_laser, travel):
    travel(ny(SPRING, 12) - timedelta(days=3))
    member = ready_member()
    client.force_login(member.user)
    page = _page(
        client, reverse("bookings:machine_calendar", args=[ny_laser.slug]) + "?week=2027-03-08"
    )
    # The first open slot of each day is Raleigh's 09:00 (a link carrying its -04:00/-05:00).
    assert "2027-03-14T09:00:00-04:00" in page
    assert "2027-03-13T09:00:00-05:00" in page


def test_my_bookings_show_each_booking_on_its_locations_clock(client, ny_laser, menlo, travel):
    travel(ny(SPRING, 12) - timedelta(days=3))
    member = ready_member()
    la_machine = MachineFactory(location=menlo, name="Menlo laser")
    BookingFactory(member=member, machine=ny_laser, start=ny(SPRING, 20))
    BookingFactory(
        member=member,
        machine=la_machine,
        start=datetime(2027, 3, 14, 20, tzinfo=LA),
    )
    client.force_login(member.user)
    page = _page(client, reverse("bookings:my_bookings"))
    assert "Sun 14 Mar 2027, 20:00\u201321:00" in page  # Raleigh's, not 17:00
    assert page.count("Sun 14 Mar 2027, 20:00\u201321:00") == 2  # and Menlo Park's own 20:00


def test_the_confirmation_email_is_on_the_locations_clock(
    ny_laser, travel, django_capture_on_commit_callbacks
):
    travel(ny(FALL, 12) - timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_create(
            member=ready_member(), machine=ny_laser, start=ny(FALL, 19), end=ny(FALL, 20, 30)
        )
    assert "Sun 7 Nov 2027, 19:00 EST to 20:30" in mail.outbox[-1].body


def test_the_member_feed_names_the_locations_zone(ny_laser, travel):
    travel(ny(FALL, 12) - timedelta(days=3))
    member = ready_member()
    BookingFactory(member=member, machine=ny_laser, start=ny(FALL, 19))
    feed = feeds.member_feed(member)
    assert b"DTSTART;TZID=America/New_York:20271107T190000" in feed
    assert b"BEGIN:VTIMEZONE" in feed and b"TZID:America/New_York" in feed
    event = icalendar.Calendar.from_ical(feed).walk("VEVENT")[0]
    assert utc(event.decoded("dtstart")) == utc(ny(FALL, 19))


def test_a_gate_is_told_the_new_end_on_its_locations_clock(ny_laser, travel, monkeypatch):
    travel(ny(FALL, 18, 30))
    member = ready_member()
    booking = BookingFactory(member=member, machine=ny_laser, start=ny(FALL, 18), end=ny(FALL, 21))
    GateDeviceFactory(machine=ny_laser)
    monkeypatch.setattr(
        "access.gates.machines_member_may_be_using",
        lambda member: type(ny_laser).objects.filter(pk=ny_laser.pk),
    )
    messages = gate_extend_booking(booking=booking)
    assert messages and all(m.message == "Your booking now ends at 21:00." for m in messages)


def test_the_access_log_shows_each_scan_on_its_machines_clock(client, ny_laser, menlo):
    la_machine = MachineFactory(location=menlo, name="Menlo laser")
    at = ny(FALL, 1, 30, fold=1)  # 01:30 EST: 23:30 PDT the evening before in Menlo Park
    AccessEventFactory(machine=ny_laser, at=at)
    AccessEventFactory(machine=la_machine, at=at)
    client.force_login(staff_at())  # the head office: both locations' scans
    page = _page(client, reverse("access:log"))
    assert "2027-11-07 01:30:00 EST" in page
    assert "2027-11-06 23:30:00 PDT" in page
    assert export._row(AccessEvent.objects.get(machine=ny_laser))[0] == "2027-11-07T01:30:00-05:00"
    assert export._row(AccessEvent.objects.get(machine=la_machine))[0] == (
        "2027-11-06T23:30:00-07:00"
    )


# --- Classes ------------------------------------------------------------------------------------


def test_a_raleigh_series_keeps_18_00_raleigh_across_spring_forward(raleigh, travel):
    """Scheduled by staff in Los Angeles, Sundays 18:00 Raleigh from 7 March: the 14 March and
    21 March classes are at 18:00 EDT (22:00 UTC), the 7 March one at 18:00 EST (23:00 UTC)."""
    travel(datetime(2027, 3, 1, 12, tzinfo=LA))
    staff = UserFactory(role=roles.STAFF)
    instructor = UserFactory(role=roles.INSTRUCTOR)
    safety = CertificationFactory(name="Safety", instructors=[instructor])
    room = AreaFactory(location=raleigh, name="Classroom")
    start = ny(date(2027, 3, 7), 18)
    series = scheduling.series_create(
        certification=safety,
        instructor=instructor,
        start=start,
        end=add_duration(start, timedelta(hours=2)),
        frequency=scheduling.Frequency.WEEKLY,
        until=date(2027, 3, 21),
        capacity=6,
        location=raleigh,
        area=room,
        actor=staff,
    )
    sessions = list(ClassSession.objects.filter(series=series.event).order_by("start"))
    assert [timezone.localtime(s.start, NY).strftime("%d %H:%M %Z") for s in sessions] == [
        "07 18:00 EST",
        "14 18:00 EDT",
        "21 18:00 EDT",
    ]
    assert [utc(s.start).hour for s in sessions] == [23, 22, 22]
    assert {(s.location, s.area) for s in sessions} == {(raleigh, room)}


def test_the_class_list_groups_by_the_locations_day(client, raleigh, travel):
    """A Raleigh class at 00:30 on Monday is Sunday evening in Los Angeles: listed on Monday."""
    travel(datetime(2027, 11, 1, 12, tzinfo=LA))
    instructor = UserFactory(role=roles.INSTRUCTOR)
    safety = CertificationFactory(name="Night safety", instructors=[instructor])
    ClassSession.objects.create(
        certification=safety,
        instructor=instructor,
        start=ny(date(2027, 11, 8), 10),
        end=ny(date(2027, 11, 8), 12),
        location=raleigh,
    )
    client.force_login(ready_member().user)
    page = _page(client, reverse("training:class_list") + "?date=2027-11-08")
    assert "Mon 8 Nov 2027" in page and "10:00\u201312:00" in page


def test_a_class_at_an_archived_location_is_refused(raleigh):
    raleigh.archived_at = timezone.now()
    raleigh.save()
    instructor = UserFactory(role=roles.INSTRUCTOR)
    with pytest.raises(Exception, match="archived"):
        scheduling.session_create(
            certification=CertificationFactory(instructors=[instructor]),
            instructor=instructor,
            start=timezone.now() + timedelta(days=1),
            end=timezone.now() + timedelta(days=1, hours=1),
            capacity=4,
            location=raleigh,
            actor=UserFactory(role=roles.STAFF),
            token=uuid.uuid4(),
        )


@override_settings(TIME_ZONE="America/New_York")
def test_with_one_location_in_the_spaces_zone_nothing_changes(db):
    assert zones.zone_of(MachineFactory()) == NY
