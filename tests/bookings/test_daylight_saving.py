"""Bookings across daylight-saving changes: real lengths, the repeated hour bookable, the skipped
hour absent, and every start that travels in a form or link carrying its UTC offset.

The nights: spring forward on 14 March 2027 (02:00 -> 03:00) and fall back on 7 November 2027
(02:00 -> 01:00) in America/Los_Angeles; America/New_York changes the same nights, and where the
zone is a parameter (the space's TIME_ZONE) the tests run in both.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from bookings import feeds, rules, selectors, services
from bookings.errors import BookingRejected
from bookings.models import Booking
from bookings.rules import MachineRules, Refusal
from core.time import add_duration, is_repeated, minutes_between, utc
from equipment import services as equipment_services
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory
from tests.factories.locations import default_location_in
from tests.factories.membership import ready_member

LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")
SPRING = date(2027, 3, 14)
FALL = date(2027, 11, 7)
# A few days before each change, so the night is bookable (14 days ahead) and in the future.
BEFORE = {SPRING: datetime(2027, 3, 10, 12, tzinfo=LA), FALL: datetime(2027, 11, 3, 12, tzinfo=LA)}
ZONES = pytest.mark.parametrize("zone", [LA, NY], ids=["los_angeles", "new_york"])


def local(day: date, hour: int, minute: int = 0, *, fold: int = 0, zone=LA) -> datetime:
    """A wall-clock time; fold=1 is the second pass of the repeated hour.

    Compare these through `utc()`: Python never finds a time of the repeated hour equal to one
    in another zone, and compares two of one zone on the wall clock, fold ignored.
    """
    return datetime.combine(day, time(hour, minute), tzinfo=zone).replace(fold=fold)


@pytest.fixture
def travel():
    """Freeze the clock at an instant (undone after the test)."""
    travellers = []

    def _travel(now: datetime) -> None:
        traveller = time_machine.travel(now, tick=False)
        traveller.start()
        travellers.append(traveller)

    yield _travel
    for traveller in reversed(travellers):
        traveller.stop()


@pytest.fixture(params=["always open", "open 00:00-24:00"])
def night_laser(request, db):
    """A machine bookable all night: without opening hours, or open midnight to midnight."""
    machine = MachineFactory(
        name="Night laser",
        slug="night-laser",
        required_certification=None,
        max_minutes=180,
        weekly_hours_per_member=0,
        daily_bookings_per_member=0,
    )
    if request.param != "always open":
        equipment_services.opening_hours_add(
            machine=machine,
            weekdays=list(range(7)),
            opens=time(0),
            closes=time(0),
            starting=date(2026, 1, 5),
        )
    return machine


@pytest.fixture
def in_zone(request, db):
    """Run the test with `zone` as the time zone of the space's (only) location."""
    zone = request.getfixturevalue("zone")
    default_location_in(zone)
    with timezone.override(zone):
        yield zone


def _book_through_the_form(client, machine, start: datetime, minutes: int):
    """What a browser does: open the slot's form, post it back with its hidden start."""
    url = reverse("bookings:booking_new", args=[machine.slug])
    form = client.get(url, {"start": start.isoformat()}, headers={"HX-Request": "true"})
    assert form.status_code == 200
    hidden = re.search(r'name="start" value="([^"]+)"', form.content.decode())[1]
    local_start = timezone.localtime(start)
    zone_name = f" {local_start:%Z}" if is_repeated(local_start) else ""  # "01:00 PST"
    shown = f"{local_start:%H:%M}{zone_name}"
    assert (
        f"From <strong>{local_start:%a} {local_start.day} {local_start:%b %Y}, {shown}</strong>"
        in (form.content.decode())
    )
    return hidden, client.post(
        url,
        {"start": hidden, "minutes": minutes, "form_token": uuid.uuid4()},
        headers={"HX-Request": "true"},
    )


@pytest.mark.parametrize(
    ("start", "minutes", "local_end"),
    [
        # 01:30 PST + 90 min: 30 minutes to the jump at 02:00, then an hour from 03:00 -> 04:00.
        (local(SPRING, 1, 30), 90, datetime(2027, 3, 14, 4, 0)),
        # 00:30 PDT + 3 h: an hour to 01:30 PDT, the repeated hour, then on to 02:30 PST.
        (local(FALL, 0, 30), 180, datetime(2027, 11, 7, 2, 30)),
        # The second 01:00 (PST) + 1 h is 02:00 PST.
        (local(FALL, 1, 0, fold=1), 60, datetime(2027, 11, 7, 2, 0)),
    ],
    ids=["spring 01:30 + 1h30", "fall 00:30 + 3h", "fall second 01:00 + 1h"],
)
def test_a_booking_made_on_the_grid_lasts_its_real_length(
    client, night_laser, travel, start, minutes, local_end
):
    """The length chosen is real minutes on the machine, whatever the clocks do that night."""
    travel(BEFORE[start.date()])
    member = ready_member()
    client.force_login(member.user)
    _, response = _book_through_the_form(client, night_laser, start, minutes)
    assert response.status_code == 200 and "Booked Night laser" in response.content.decode()
    booking = Booking.objects.get()
    assert utc(booking.start) == utc(start)
    assert minutes_between(booking.start, booking.end) == minutes
    assert timezone.localtime(booking.end).replace(tzinfo=None) == local_end


def test_the_hidden_start_carries_its_offset_so_the_repeated_hour_books(
    client, night_laser, travel
):
    """The second 01:00 of the fall-back night travels as 01:00-08:00 and books at 09:00 UTC."""
    travel(BEFORE[FALL])
    member = ready_member()
    client.force_login(member.user)
    second = local(FALL, 1, 0, fold=1)
    hidden, response = _book_through_the_form(client, night_laser, second, 30)
    assert hidden == "2027-11-07T01:00:00-08:00"
    assert response.status_code == 200
    assert (
        "Booked Night laser, Sun 7 Nov 2027, 01:00 PST to 01:30 PST." in response.content.decode()
    )
    assert Booking.objects.get().start == datetime(2027, 11, 7, 9, 0, tzinfo=UTC)


def test_a_start_without_an_offset_in_the_repeated_hour_is_refused_not_guessed(
    client, night_laser, travel
):
    """A naive 01:00 on the fall-back night could be either hour: the page asks for a slot."""
    travel(BEFORE[FALL])
    client.force_login(ready_member().user)
    url = reverse("bookings:booking_new", args=[night_laser.slug])
    assert client.get(url, {"start": "2027-11-07T01:00:00"}).status_code == 400
    assert client.get(url, {"start": "2027-03-14T02:30:00"}).status_code == 400
    assert client.get(url, {"start": "2027-11-07T02:00:00"}).status_code == 200


@ZONES
@pytest.mark.parametrize(
    ("day", "start_hour", "end_hour", "refused"),
    [
        # Wall clock 00:30 -> 03:30 reads 3 h, but the fall-back night makes it 4 real hours.
        (date(2026, 11, 1), 0, 3, Refusal.TOO_LONG),
        (FALL, 0, 3, Refusal.TOO_LONG),
        # Wall clock 00:30 -> 04:30 reads 4 h, but the spring-forward night makes it 3 real hours.
        (date(2026, 3, 8), 0, 4, None),
        (SPRING, 0, 4, None),
    ],
)
def test_the_service_judges_real_length(
    zone, in_zone, night_laser, travel, day, start_hour, end_hour, refused
):
    """booking_create measures the real span between start and end (at most 180 minutes here)."""
    travel(datetime.combine(day - timedelta(days=3), time(12), tzinfo=zone))
    member = ready_member()
    start = local(day, start_hour, 30, zone=zone)
    end = local(day, end_hour, 30, zone=zone)
    if refused is None:
        booking = services.booking_create(member=member, machine=night_laser, start=start, end=end)
        assert minutes_between(booking.start, booking.end) == 180
    else:
        with pytest.raises(BookingRejected) as rejected:
            services.booking_create(member=member, machine=night_laser, start=start, end=end)
        assert rejected.value.reason == refused


def test_the_buffer_after_a_booking_is_real_minutes(night_laser, travel):
    """30 minutes kept free after a booking ending at the first 01:30 run to the second 01:00."""
    travel(BEFORE[FALL])
    night_laser.buffer_minutes = 30
    night_laser.save()
    booking = services.booking_create(
        member=ready_member(),
        machine=night_laser,
        start=local(FALL, 1, 0),
        end=local(FALL, 1, 30),
    )
    booking.refresh_from_db()
    assert booking.blocked_until == utc(local(FALL, 1, 0, fold=1))
    # The second 01:00 is free again (the buffer has passed), the first 01:30 is not.
    other = ready_member()
    services.booking_create(
        member=other, machine=night_laser, start=local(FALL, 1, 0, fold=1), end=local(FALL, 2, 0)
    )


def test_the_weekly_quota_counts_real_hours(night_laser, travel):
    """Two hours a week allow 01:30 -> 04:30 on the spring-forward night (2 real hours)."""
    travel(BEFORE[SPRING])
    night_laser.weekly_hours_per_member = 2
    night_laser.save()
    member = ready_member()
    booking = services.booking_create(
        member=member, machine=night_laser, start=local(SPRING, 1, 30), end=local(SPRING, 4, 30)
    )
    assert minutes_between(booking.start, booking.end) == 120
    with pytest.raises(BookingRejected) as rejected:
        services.booking_create(
            member=member, machine=night_laser, start=local(SPRING, 9), end=local(SPRING, 9, 30)
        )
    assert rejected.value.reason == Refusal.WEEKLY_QUOTA


def test_the_daily_count_uses_the_25_hour_local_day(night_laser, travel):
    """One booking a day: 23:30 on the fall-back day is the same day as its 00:30, not the next."""
    travel(BEFORE[FALL])
    night_laser.daily_bookings_per_member = 1
    night_laser.save()
    member = ready_member()
    services.booking_create(
        member=member, machine=night_laser, start=local(FALL, 0, 30), end=local(FALL, 1, 0)
    )
    with pytest.raises(BookingRejected) as rejected:
        services.booking_create(
            member=member,
            machine=night_laser,
            start=local(FALL, 23, 30),
            end=local(FALL + timedelta(days=1), 0),
        )
    assert rejected.value.reason == Refusal.DAILY_QUOTA
    services.booking_create(
        member=member,
        machine=night_laser,
        start=local(FALL + timedelta(days=1), 0),
        end=local(FALL + timedelta(days=1), 0, 30),
    )


def test_the_staff_day_lists_the_whole_25_hour_day(night_laser, travel):
    """The staff desk's day runs midnight to midnight on the wall clock."""
    travel(BEFORE[FALL])
    member = ready_member()
    inside = [local(FALL, 0), local(FALL, 1, 0, fold=1), local(FALL, 23, 30)]
    outside = [local(FALL - timedelta(days=1), 23, 30), local(FALL + timedelta(days=1), 0)]
    for start in inside + outside:
        BookingFactory(
            machine=night_laser,
            member=member,
            start=start,
            end=add_duration(start, timedelta(minutes=30)),
            blocked_until=add_duration(start, timedelta(minutes=30)),
        )
    assert [booking.start for booking in selectors.bookings_on_day(FALL)] == [
        utc(s) for s in inside
    ]


def test_a_week_long_booking_before_the_spring_change_still_holds_the_next_week(
    night_laser, travel
):
    """The look-back for bookings that could overlap a week is real time (the week of 14 March
    is an hour short on the wall clock)."""
    travel(datetime(2027, 3, 1, 12, tzinfo=LA))
    # 23:30 PST on 6 March: 7 days 23.5 real hours before Monday 15 March, but more than 8 days
    # on the wall clock (which skips an hour on 14 March).
    start = local(date(2027, 3, 6), 23, 30)
    end = add_duration(start, timedelta(days=7))
    BookingFactory(
        machine=night_laser,
        start=start,
        end=end,
        blocked_until=add_duration(end, timedelta(days=1)),
    )
    monday = local(date(2027, 3, 15), 0)
    holding = selectors.bookings_holding(
        night_laser, start=monday, end=add_duration(monday, timedelta(hours=1))
    )
    assert holding.count() == 1


def test_extending_across_the_fall_back_adds_real_minutes(client, night_laser, travel):
    """Extending a running booking by an hour adds an hour on the machine."""
    travel(BEFORE[FALL])
    member = ready_member()
    booking = services.booking_create(
        member=member, machine=night_laser, start=local(FALL, 0, 30), end=local(FALL, 1, 30)
    )
    travel(local(FALL, 1, 0))
    client.force_login(member.user)
    client.post(
        reverse("bookings:booking_extend", args=[booking.pk]),
        {"minutes": 60, "form_token": uuid.uuid4()},
    )
    booking.refresh_from_db()
    assert booking.end == utc(local(FALL, 1, 30, fold=1))
    assert minutes_between(booking.start, booking.end) == 120


def _sunday_night_maintenance(machine):
    """Weekly maintenance on Sundays 01:00-03:00, from the Sunday before the fall-back night."""
    return services.maintenance_window_create(
        machine=machine,
        start=local(FALL - timedelta(weeks=1), 1),
        end=local(FALL - timedelta(weeks=1), 3),
        reason="Lens cleaning",
        actor=None,
        repeat_weekly_until=local(FALL + timedelta(weeks=1), 0),
    )


def test_weekly_maintenance_cancels_and_blocks_the_first_pass_of_the_repeated_hour(
    night_laser, travel
):
    """Maintenance every Sunday 01:00-03:00, set the week before, reaches the first 01:00 of the
    fall-back night: the booking there is cancelled and the slot refused, like the grid shows."""
    travel(datetime(2027, 10, 27, 12, tzinfo=LA))
    member = ready_member()
    first_pass = services.booking_create(
        member=member, machine=night_laser, start=local(FALL, 1, 0), end=local(FALL, 1, 30)
    )
    _, cancelled = _sunday_night_maintenance(night_laser)
    assert [booking.pk for booking in cancelled] == [first_pass.pk]
    with pytest.raises(BookingRejected) as rejected:
        services.booking_create(
            member=member, machine=night_laser, start=local(FALL, 1, 0), end=local(FALL, 1, 30)
        )
    assert rejected.value.reason == Refusal.BLOCKED
    grid = selectors.week_grid(machine=night_laser, monday=date(2027, 11, 1), member=member)
    statuses = {row.label: row.cells[6].status for row in grid.rows}
    assert statuses["00:30"] == statuses["03:00"] == "free"
    assert {statuses[label] for label in ("01:00 PDT", "01:30 PST", "02:30")} == {"blocked"}


# --- The week grid -------------------------------------------------------------------------------


def _sunday(grid) -> list:
    return grid.days[6].cells


@ZONES
def test_the_fall_back_grid_shows_the_repeated_hour_twice_labelled(
    zone, in_zone, night_laser, travel
):
    """Sunday 7 November has 50 half-hour slots; 01:00 and 01:30 come twice, labelled by zone."""
    travel(BEFORE[FALL].astimezone(zone))
    grid = selectors.week_grid(machine=night_laser, monday=date(2027, 11, 1), member=None)
    daylight, standard = ("PDT", "PST") if zone is LA else ("EDT", "EST")
    labels = [row.label for row in grid.rows]
    assert labels[:6] == [
        "00:00",
        "00:30",
        f"01:00 {daylight}",
        f"01:30 {daylight}",
        f"01:00 {standard}",
        f"01:30 {standard}",
    ]
    assert labels[6] == "02:00" and len(labels) == 50
    sunday = _sunday(grid)
    assert len(sunday) == 50 and [len(day.cells) for day in grid.days[:6]] == [48] * 6
    assert {minutes_between(a.start, b.start) for a, b in pairwise(sunday)} == {30}
    # The second pass exists on Sunday only.
    assert [cell is None for cell in grid.rows[4].cells] == [True] * 6 + [False]
    assert utc(grid.rows[4].cells[6].start) == utc(local(FALL, 1, 0, fold=1, zone=zone))


@ZONES
def test_the_spring_forward_grid_has_no_skipped_hour(zone, in_zone, night_laser, travel):
    """Sunday 14 March has 46 slots: 02:00 and 02:30 do not exist and cannot be clicked."""
    travel(BEFORE[SPRING].astimezone(zone))
    grid = selectors.week_grid(machine=night_laser, monday=date(2027, 3, 8), member=None)
    sunday = _sunday(grid)
    assert len(sunday) == 46
    assert not [cell for cell in sunday if cell.start.hour == 2]
    row = next(row for row in grid.rows if row.time == time(2))
    assert [cell is None for cell in row.cells] == [False] * 6 + [True]
    assert {minutes_between(a.start, b.start) for a, b in pairwise(sunday)} == {30}


def _grid_page(client, machine, change: date) -> str:
    """The grid of the week of `change`, as a member sees it a few days before."""
    client.force_login(ready_member().user)
    monday = change - timedelta(days=change.weekday())
    url = reverse("bookings:week_grid", args=[machine.slug]) + f"?week={monday}"
    return client.get(url).content.decode()


def test_the_fall_back_page_links_each_repeated_slot_with_its_offset(client, night_laser, travel):
    """Both 01:00 slots are on the page, each link and data-start carrying its own offset."""
    travel(BEFORE[FALL])
    page = _grid_page(client, night_laser, FALL)
    assert 'data-start="2027-11-07T01:00:00-07:00"' in page
    assert 'data-start="2027-11-07T01:00:00-08:00"' in page
    assert "start=2027-11-07T01%3A00%3A00-07%3A00" in page
    assert "start=2027-11-07T01%3A00%3A00-08%3A00" in page
    assert "Free: Sun 7 Nov 2027, 01:00 PDT" in page and "Free: Sun 7 Nov 2027, 01:00 PST" in page
    assert '<th scope="row"' in page and ">01:00 PST</th>" in page
    assert "the clocks go back an hour" in page


def test_the_spring_forward_page_has_no_link_into_the_skipped_hour(client, night_laser, travel):
    """No slot, link or data-start names 02:xx on 14 March; the day before still has its 02:00."""
    travel(BEFORE[SPRING])
    page = _grid_page(client, night_laser, SPRING)
    assert "2027-03-14T02" not in page and "2027-03-13T02:00:00-08:00" in page
    assert "the clocks go forward an hour" in page


def test_a_booking_in_the_repeated_hour_shows_on_its_own_pass_only(night_laser, travel):
    """Booked 01:00-02:00 PST: the second-pass rows are yours, the first-pass rows stay free."""
    travel(BEFORE[FALL])
    member = ready_member()
    services.booking_create(
        member=member,
        machine=night_laser,
        start=local(FALL, 1, 0, fold=1),
        end=local(FALL, 2, 0),
    )
    grid = selectors.week_grid(machine=night_laser, monday=date(2027, 11, 1), member=member)
    by_label = {row.label: row.cells[6].status for row in grid.rows}
    assert by_label["01:00 PDT"] == by_label["01:30 PDT"] == "free"
    assert by_label["01:00 PST"] == by_label["01:30 PST"] == "mine"
    assert by_label["02:00"] == "free"


def test_the_grid_rows_reach_the_latest_closing_time_of_the_week(db, travel):
    """Rows run to the latest closing hour of any day, not the close of the week's last day."""
    travel(datetime(2027, 10, 25, 12, tzinfo=LA))
    machine = MachineFactory(required_certification=None)
    equipment_services.opening_hours_add(
        machine=machine,
        weekdays=[0, 1, 2, 3, 4],
        opens=time(9),
        closes=time(21),
        starting=date(2027, 1, 4),
    )
    equipment_services.opening_hours_add(
        machine=machine, weekdays=[6], opens=time(10), closes=time(16), starting=date(2027, 1, 4)
    )
    grid = selectors.week_grid(machine=machine, monday=date(2027, 11, 1), member=None)
    assert (grid.rows[0].label, grid.rows[-1].label) == ("09:00", "20:30")
    assert [c.status for c in grid.rows[-1].cells] == ["free"] * 5 + ["closed"] * 2


# --- The pure rules, with times in the space's own zone (as callers pass them) ----------------


NIGHT = MachineRules(name="Night laser", min_minutes=60, max_minutes=180)


@pytest.mark.parametrize(
    ("start", "end", "refusal"),
    [
        (local(SPRING, 1, 30), local(SPRING, 3, 0), Refusal.TOO_SHORT),  # 30 real minutes
        (local(FALL, 0, 30), local(FALL, 3, 30), Refusal.TOO_LONG),  # 240 real minutes
        (local(SPRING, 0, 30), local(SPRING, 4, 30), None),  # 180 real minutes
        (local(FALL, 1, 0), local(FALL, 1, 0, fold=1), None),  # 60 real minutes
    ],
    ids=["spring 30 min", "fall 240 min", "spring 180 min", "fall 01:00 PDT to 01:00 PST"],
)
def test_check_length_counts_real_minutes(start, end, refusal):
    """Between 60 and 180 real minutes, whatever the wall clock reads."""
    refused = rules.check_length(start, end, NIGHT)
    assert (refused.reason if refused else None) == refusal


def test_check_range_tells_the_two_passes_apart():
    """The second 01:00 is after the first 01:30, though its wall clock reads earlier."""
    assert rules.check_range(local(FALL, 1, 30), local(FALL, 1, 0, fold=1)) is None
    assert (
        rules.check_range(local(FALL, 1, 0, fold=1), local(FALL, 1, 30)).reason
        == Refusal.ENDS_BEFORE_START
    )


def test_a_slot_in_the_first_pass_is_past_during_the_second():
    """At 01:15 PST the 01:30 PDT slot ended 15 minutes ago: no walk-up booking into it."""
    now = local(FALL, 1, 15, fold=1)
    refused = rules.check_timing(local(FALL, 1, 30), now, MachineRules(name="x"), LA)
    assert refused.reason == Refusal.IN_PAST
    assert rules.check_timing(local(FALL, 1, 0, fold=1), now, MachineRules(name="x"), LA) is None


def test_check_in_opens_ten_real_minutes_before_the_start():
    """A booking at the second 01:00 (09:00 UTC): at 01:20 PDT it is 40 minutes away and check-in
    is still closed, though the wall clock reads later than 00:50; at 01:52 PDT it is open."""
    start, end = local(FALL, 1, 0, fold=1), local(FALL, 2, 0)

    def refusal(now):
        refused = rules.check_in_refusal(
            state="confirmed", start=start, end=end, now=now, opens_minutes=10
        )
        return refused.reason if refused else None

    assert refusal(local(FALL, 1, 20)) == Refusal.CHECK_IN_NOT_OPEN
    assert refusal(local(FALL, 1, 52)) is None


def test_a_cancellation_is_late_by_real_notice():
    """01:00 PDT to 01:30 PST is 90 minutes' notice: not late under a 60-minute rule."""
    assert (
        rules.cancelled_state(
            start=local(FALL, 1, 30, fold=1), now=local(FALL, 1, 0), late_minutes=60
        )
        == "cancelled"
    )
    assert (
        rules.cancelled_state(start=local(SPRING, 3, 30), now=local(SPRING, 1, 45), late_minutes=60)
        == "late_cancelled"
    )


def test_check_overlap_keeps_the_buffer_in_real_minutes():
    """A 30-minute buffer after a booking ending at the first 01:30 ends at the second 01:00."""
    night = MachineRules(name="x", buffer_minutes=30)
    taken = [(local(FALL, 1, 0, fold=1), local(FALL, 2, 0))]
    assert rules.check_overlap(local(FALL, 0, 30), local(FALL, 1, 30), taken, night) is None
    assert (
        rules.check_overlap(local(FALL, 0, 30), local(FALL, 1, 30, fold=1), taken, night).reason
        == Refusal.OVERLAP
    )


def test_bookings_open_calendar_days_ahead_on_the_wall_clock():
    """14 days ahead from 12:00 on 1 Nov reaches 12:00 on 15 Nov, across the change."""
    rules_ = MachineRules(name="x", book_ahead_days=14)
    now = local(date(2027, 11, 1), 12)
    assert rules.check_timing(local(date(2027, 11, 15), 11, 30), now, rules_, LA) is None
    assert (
        rules.check_timing(local(date(2027, 11, 15), 12), now, rules_, LA).reason
        == Refusal.TOO_FAR_AHEAD
    )


# --- Feeds ----------------------------------------------------------------------------------------


def test_the_member_feed_gives_real_instants_across_the_change(night_laser, travel):
    """A booking from 00:30 PDT for 3 h ends at 02:30 PST in the member's calendar."""
    travel(BEFORE[FALL])
    member = ready_member()
    services.booking_create(
        member=member,
        machine=night_laser,
        start=local(FALL, 0, 30),
        end=add_duration(local(FALL, 0, 30), timedelta(hours=3)),
    )
    event = icalendar.Calendar.from_ical(feeds.member_feed(member)).walk("VEVENT")[0]
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert (start, end) == (local(FALL, 0, 30), local(FALL, 2, 30))
    assert minutes_between(start, end) == 180


def test_the_machine_feed_shows_weekly_maintenance_at_its_wall_clock_times(night_laser, travel):
    """Sundays 01:00-03:00: on the fall-back night the feed's block runs 08:00 to 11:00 UTC; its
    start says so in UTC (a local "01:00" with a TZID would not say which of the two 01:00s), its
    end at 03:00 on the location's clock."""
    travel(datetime(2027, 10, 27, 12, tzinfo=LA))
    _sunday_night_maintenance(night_laser)
    feed = feeds.machine_feed(night_laser)
    assert b"DTSTART:20271107T080000Z" in feed
    assert b"DTEND;TZID=America/Los_Angeles:20271107T030000" in feed
    events = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    night = [e for e in events if utc(e.decoded("dtstart")).date() == FALL]
    assert [(utc(e.decoded("dtstart")), utc(e.decoded("dtend"))) for e in night] == [
        (datetime(2027, 11, 7, 8, 0, tzinfo=UTC), datetime(2027, 11, 7, 11, 0, tzinfo=UTC))
    ]
    assert str(night[0]["uid"]).startswith(f"block-{night_laser.pk}-202711070100-")
