"""Booking actions: every refusal names its rule and writes nothing; state changes are recorded."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction

from bookings import selectors, services
from bookings.errors import BookingRejected
from bookings.models import Booking, BookingState
from bookings.rules import Refusal
from core.errors import DuplicateSubmission
from equipment import services as equipment_services
from equipment.models import MachineState
from membership import roles
from membership.models import MembershipStatus
from tests.bookings.conftest import at
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory
from tests.factories.membership import UserFactory, ready_member


def book(member, machine, start, end, **kwargs):
    return services.booking_create(member=member, machine=machine, start=start, end=end, **kwargs)


def test_a_member_books_a_free_slot_and_gets_a_confirmation(
    maker, laser, django_capture_on_commit_callbacks
):
    """A valid booking is confirmed, holds the machine and is confirmed by email after commit."""
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(maker, laser, at(1, 10), at(1, 11), actor=maker.user)
    assert booking.state == BookingState.CONFIRMED
    assert booking.blocked_until == at(1, 11)
    assert len(mail.outbox) == 1
    assert "Laser cutter" in mail.outbox[0].subject
    assert mail.outbox[0].to == [maker.user.email]


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        (at(1, 11), at(1, 10), Refusal.ENDS_BEFORE_START),
        (at(1, 10), at(1, 10), Refusal.ENDS_BEFORE_START),
        (at(1, 10), at(1, 14), Refusal.TOO_LONG),
        (at(1, 10, 10), at(1, 11), Refusal.OFF_GRID),
        (at(0, 6), at(0, 7), Refusal.IN_PAST),
        (at(1, 20), at(1, 22), Refusal.CLOSED),
        (at(20, 10), at(20, 11), Refusal.TOO_FAR_AHEAD),
    ],
)
def test_bad_times_are_refused_and_nothing_is_written(maker, laser, start, end, reason):
    """Bad input gets a clear refusal naming the rule; no booking is written."""
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, start, end)
    assert refused.value.reason == reason
    assert Booking.objects.count() == 0


def test_a_member_without_the_certification_is_refused(laser, frozen):
    """The machine's certification is checked at booking time."""
    member = ready_member()
    with pytest.raises(BookingRejected) as refused:
        book(member, laser, at(1, 10), at(1, 11))
    assert refused.value.reason == Refusal.NOT_CERTIFIED
    assert "Laser cutter certification" in refused.value.message


def test_a_lapsed_membership_is_refused(maker, laser):
    """Only members in good standing (paid, waiver, badge) book."""
    maker.membership.status = MembershipStatus.CANCELED
    maker.membership.save()
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, at(1, 10), at(1, 11))
    assert refused.value.reason == Refusal.MEMBERSHIP_INACTIVE


def test_an_out_of_service_machine_is_refused(maker, laser, staff_user):
    """A machine out of service takes no bookings, and the reason is shown."""
    equipment_services.machine_set_state(
        machine=laser, state=MachineState.OUT_OF_SERVICE, reason="Lens cracked", actor=staff_user
    )
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, at(1, 10), at(1, 11))
    assert refused.value.reason == Refusal.OUT_OF_SERVICE
    assert "Lens cracked" in refused.value.message


def test_overlapping_bookings_are_refused(maker, laser):
    """A booking that overlaps another on the same machine is rejected."""
    other = ready_member()
    BookingFactory(machine=laser, member=other, start=at(1, 10), end=at(1, 12))
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, at(1, 11), at(1, 13))
    assert refused.value.reason == Refusal.OVERLAP
    assert Booking.objects.count() == 1


def test_cancelled_bookings_free_the_slot(maker, laser):
    """Cancelled and no-show bookings do not hold the machine."""
    BookingFactory(machine=laser, start=at(1, 10), end=at(1, 12), state=BookingState.CANCELLED)
    BookingFactory(machine=laser, start=at(1, 10), end=at(1, 12), state=BookingState.NO_SHOW)
    assert book(maker, laser, at(1, 10), at(1, 11)).pk


def test_the_buffer_keeps_time_free_between_bookings(maker, laser):
    """With a 30-minute buffer, the next booking may start 30 minutes after the previous ends."""
    laser.buffer_minutes = 30
    laser.save()
    first = book(maker, laser, at(1, 10), at(1, 11))
    assert first.blocked_until == at(1, 11, 30)
    other = ready_member()
    from tests.factories.equipment import certify

    certify(other, laser.required_certification)
    with pytest.raises(BookingRejected) as refused:
        book(other, laser, at(1, 11), at(1, 12))
    assert refused.value.reason == Refusal.OVERLAP
    assert book(other, laser, at(1, 11, 30), at(1, 12)).pk


def test_a_booking_whose_buffer_runs_into_the_next_is_refused(maker, laser):
    """With a 30-minute buffer, a booking must end 30 minutes before the next one starts."""
    laser.buffer_minutes = 30
    laser.save()
    book(ready_certified(laser), laser, at(1, 11), at(1, 12))
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, at(1, 10), at(1, 11))
    assert refused.value.reason == Refusal.OVERLAP
    assert book(maker, laser, at(1, 10), at(1, 10, 30)).blocked_until == at(1, 11)


def test_quotas_count_only_the_members_own_active_bookings_on_this_machine(maker, laser):
    """Hours count the member's bookings on this machine that week, the daily limit those of
    that day: not other members', other machines', cancelled ones or next week's."""
    other = ready_certified(laser)
    BookingFactory(machine=laser, member=other, start=at(1, 14), end=at(1, 15))
    BookingFactory(machine=laser, member=other, start=at(1, 16), end=at(1, 17))
    printer = MachineFactory(name="3D printer")
    BookingFactory(machine=printer, member=maker, start=at(1, 10), end=at(1, 14))
    BookingFactory(machine=printer, member=maker, start=at(1, 15), end=at(1, 19))
    for hour in (10, 11):
        BookingFactory(
            machine=laser,
            member=maker,
            start=at(1, hour),
            end=at(1, hour + 1),
            state=BookingState.CANCELLED,
        )
    BookingFactory(machine=laser, member=maker, start=at(2, 10), end=at(2, 11))
    BookingFactory(machine=laser, member=maker, start=at(2, 12), end=at(2, 13))
    BookingFactory(machine=laser, member=maker, start=at(7, 10), end=at(7, 13))
    # Two hours on Wednesday and three now: five of the six a week, the first booking that day.
    assert book(maker, laser, at(1, 10), at(1, 13)).pk


def test_an_extension_counts_the_booking_once_toward_the_weekly_hours(maker, laser, frozen):
    """Three hours on Wednesday and a Tuesday booking extended to three hours: exactly six."""
    BookingFactory(machine=laser, member=maker, start=at(2, 10), end=at(2, 13))
    booking = book(maker, laser, at(1, 10), at(1, 12))
    frozen.move_to(at(1, 10, 30))
    assert services.booking_extend(booking=booking, new_end=at(1, 13)).end == at(1, 13)


def test_weekly_hours_are_counted_to_the_minute(maker, frozen):
    """After 48 hours booked, an hour more fits a 49-hour week and an hour and a half does not."""
    kiln = MachineFactory(name="Kiln", max_minutes=3 * 24 * 60, weekly_hours_per_member=49)
    BookingFactory(machine=kiln, member=maker, start=at(1, 0), end=at(3, 0))
    with pytest.raises(BookingRejected) as refused:
        book(maker, kiln, at(4, 10), at(4, 11, 30))
    assert refused.value.reason == Refusal.WEEKLY_QUOTA
    assert book(maker, kiln, at(4, 10), at(4, 11)).pk


def test_weekly_and_daily_quotas(maker, laser):
    """Six hours a week and two bookings a day on the laser, per member."""
    book(maker, laser, at(1, 10), at(1, 13))
    book(maker, laser, at(1, 14), at(1, 16))
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, at(1, 17), at(1, 18))
    assert refused.value.reason == Refusal.DAILY_QUOTA
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, at(2, 10), at(2, 11, 30))
    assert refused.value.reason == Refusal.WEEKLY_QUOTA
    assert book(maker, laser, at(2, 10), at(2, 11)).pk
    # Next week the hours start again.
    assert book(maker, laser, at(7, 10), at(7, 13)).pk


def test_maintenance_blocks_bookings_and_cancels_the_ones_it_overlaps(
    maker, laser, staff_user, django_capture_on_commit_callbacks
):
    """Scheduling maintenance over a booking cancels it and tells the member why."""
    booking = book(maker, laser, at(1, 10), at(1, 11))
    with django_capture_on_commit_callbacks(execute=True):
        _window, cancelled = services.maintenance_window_create(
            machine=laser, start=at(1, 9), end=at(1, 12), reason="New laser tube", actor=staff_user
        )
    assert cancelled == [booking]
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED
    assert "New laser tube" in booking.cancel_reason
    assert "New laser tube" in mail.outbox[-1].body
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, at(1, 11), at(1, 12))
    assert refused.value.reason == Refusal.BLOCKED


def test_weekly_maintenance_blocks_every_week(maker, laser, staff_user):
    """A recurring maintenance window (django-scheduler rule) blocks each week's occurrence."""
    services.maintenance_window_create(
        machine=laser,
        start=at(0, 9),
        end=at(0, 10),
        reason="Weekly cleaning",
        actor=staff_user,
        repeat_weekly_until=at(28, 0),
    )
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, at(7, 9), at(7, 10))
    assert refused.value.reason == Refusal.BLOCKED
    assert book(maker, laser, at(7, 10), at(7, 11)).pk


def test_a_class_session_on_the_machine_blocks_bookings(maker, laser, staff_user):
    """A class session linked to the machine cancels overlapping bookings and blocks new ones."""
    from training.models import ClassSession

    booking = book(maker, laser, at(2, 10), at(2, 11))
    session = ClassSession.objects.create(
        certification=laser.required_certification,
        instructor=staff_user,
        start=at(2, 10),
        end=at(2, 12),
    )
    cancelled = services.class_session_reserve_machines(session=session, machines=[laser])
    assert cancelled == [booking]
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, at(2, 11), at(2, 12))
    assert refused.value.reason == Refusal.BLOCKED
    assert "Class" in refused.value.message


def test_outside_opening_hours_is_refused(maker, laser):
    """Opening hours come from the machine's django-scheduler calendar."""
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, at(1, 8), at(1, 9, 30))
    assert refused.value.reason == Refusal.CLOSED


def test_a_double_submitted_form_books_once(maker, laser):
    """The same form token twice: one booking, the second submit changes nothing."""
    token = uuid.uuid4()
    book(maker, laser, at(1, 10), at(1, 11), token=token)
    with pytest.raises(DuplicateSubmission):
        book(maker, laser, at(1, 10), at(1, 11), token=token)
    assert Booking.objects.count() == 1


def test_a_member_cannot_book_for_someone_else(maker, laser):
    """Only staff book for another member."""
    other = ready_member()
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, at(1, 10), at(1, 11), actor=other.user)
    assert refused.value.reason == Refusal.NOT_YOURS
    staff = UserFactory(role=roles.STAFF)
    assert book(maker, laser, at(1, 10), at(1, 11), actor=staff).created_by == staff


def test_cancel_own_booking_and_not_someone_elses(maker, laser, frozen):
    """A member cancels their own booking; someone else's is refused and left alone."""
    booking = book(maker, laser, at(1, 10), at(1, 11))
    other = ready_member()
    with pytest.raises(BookingRejected) as refused:
        services.booking_cancel(booking=booking, actor=other.user)
    assert refused.value.reason == Refusal.NOT_YOURS
    cancelled = services.booking_cancel(booking=booking, actor=maker.user)
    assert cancelled.state == BookingState.CANCELLED
    assert cancelled.cancelled_by == maker.user
    # A late cancellation is recorded as such.
    late = book(maker, laser, at(1, 12), at(1, 13))
    frozen.move_to(at(1, 11, 30))
    assert services.booking_cancel(booking=late, actor=maker.user).state == (
        BookingState.LATE_CANCELLED
    )


def test_check_in_extend_and_release(maker, laser, frozen):
    """Check-in opens 10 minutes early; a running booking extends; no-shows are released."""
    booking = book(maker, laser, at(1, 10), at(1, 11))
    frozen.move_to(at(1, 9, 45))
    with pytest.raises(BookingRejected) as refused:
        services.booking_check_in(booking=booking)
    assert refused.value.reason == Refusal.CHECK_IN_NOT_OPEN
    frozen.move_to(at(1, 9, 50))
    assert services.booking_check_in(booking=booking).state == BookingState.CHECKED_IN
    frozen.move_to(at(1, 10, 30))
    extended = services.booking_extend(booking=booking, new_end=at(1, 12), actor=maker.user)
    assert (extended.end, extended.blocked_until, extended.extended_count) == (
        at(1, 12),
        at(1, 12),
        1,
    )
    no_show = book(ready_certified(laser), laser, at(1, 14), at(1, 15))
    frozen.move_to(at(1, 14, 16))
    assert services.bookings_release() == {"no_shows": 1, "completed": 1}
    assert services.bookings_release() == {"no_shows": 0, "completed": 0}
    no_show.refresh_from_db()
    assert no_show.state == BookingState.NO_SHOW


def test_a_walk_up_books_the_slot_running_now_and_gets_its_grace_from_then(maker, laser, frozen):
    """At a free machine at 10:20, a member books 10:00-11:00 and has 15 minutes to scan in."""
    frozen.move_to(at(1, 10, 20))
    booking = book(maker, laser, at(1, 10), at(1, 11), actor=maker.user)
    assert booking.state == BookingState.CONFIRMED
    frozen.move_to(at(1, 10, 34))
    assert services.bookings_release()["no_shows"] == 0
    frozen.move_to(at(1, 10, 36))
    assert services.bookings_release()["no_shows"] == 1


def test_a_slot_that_has_ended_cannot_be_booked(maker, laser, frozen):
    frozen.move_to(at(1, 10, 30))
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, at(1, 10), at(1, 11), actor=maker.user)
    assert refused.value.reason == Refusal.IN_PAST


def test_releasing_a_no_show_tells_the_machines_gates(maker, laser, frozen, gate_calls):
    """The released slot must leave the gate's offline allow-list, not wait for its timer."""
    book(maker, laser, at(1, 10), at(1, 11))
    frozen.move_to(at(1, 10, 16))
    del gate_calls[:]
    services.bookings_release()
    assert gate_calls.machines() == [laser]


def test_an_extension_into_someone_elses_booking_is_refused(maker, laser, frozen):
    """A running booking extends only if the next slot is free."""
    booking = book(maker, laser, at(1, 10), at(1, 11))
    book(ready_certified(laser), laser, at(1, 11), at(1, 12))
    frozen.move_to(at(1, 10, 30))
    services.booking_check_in(booking=booking)
    with pytest.raises(BookingRejected) as refused:
        services.booking_extend(booking=booking, new_end=at(1, 11, 30))
    assert refused.value.reason == Refusal.OVERLAP
    booking.refresh_from_db()
    assert booking.end == at(1, 11)


def test_reminders_go_out_once(maker, laser, frozen, django_capture_on_commit_callbacks):
    """The periodic run emails each reminder once, however often it runs."""
    book(maker, laser, at(1, 10), at(1, 11))
    frozen.move_to(at(1, 9, 5))
    assert services.bookings_send_reminders() == 1
    assert services.bookings_send_reminders() == 0
    assert "Reminder" in mail.outbox[-1].subject


def test_booking_covering_opens_at_check_in_and_ends_at_the_end(maker, laser):
    """The gate's selector: a confirmed or checked-in booking covering the instant."""
    booking = book(maker, laser, at(1, 10), at(1, 11))
    assert selectors.booking_covering(member=maker, machine=laser, at=at(1, 9, 49)) is None
    assert selectors.booking_covering(member=maker, machine=laser, at=at(1, 9, 50)) == booking
    assert selectors.booking_covering(member=maker, machine=laser, at=at(1, 10, 59)) == booking
    assert selectors.booking_covering(member=maker, machine=laser, at=at(1, 11)) is None
    other = ready_member()
    assert selectors.booking_covering(member=other, machine=laser, at=at(1, 10, 30)) is None
    services.booking_cancel(booking=booking, actor=maker.user)
    assert selectors.booking_covering(member=maker, machine=laser, at=at(1, 10, 30)) is None


def test_bookings_covering_answers_many_questions_in_one_query(
    maker, laser, django_assert_num_queries
):
    booking = book(maker, laser, at(1, 10), at(1, 11))
    later = book(maker, laser, at(1, 12), at(1, 13))
    other = ready_member()
    questions = [
        (maker.pk, laser.pk, at(1, 9, 49)),
        (maker.pk, laser.pk, at(1, 10, 30)),
        (other.pk, laser.pk, at(1, 10, 30)),
        (maker.pk, laser.pk, at(1, 12, 30)),
        (maker.pk, laser.pk, at(1, 11, 55)),  # inside the next booking's check-in lead
    ]
    with django_assert_num_queries(1):
        answers = selectors.bookings_covering(questions)
    assert answers == [None, booking, None, later, later]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_overlapping_active_bookings(laser):
    """Even written directly, bypassing every check, PostgreSQL refuses a double booking."""
    assert connection.vendor == "postgresql"
    BookingFactory(machine=laser, start=at(1, 10), end=at(1, 12))
    with pytest.raises(IntegrityError), transaction.atomic():
        BookingFactory(machine=laser, start=at(1, 11), end=at(1, 13))
    # Back to back is fine, and so is overlapping a cancelled booking.
    BookingFactory(machine=laser, start=at(1, 12), end=at(1, 13))
    BookingFactory(machine=laser, start=at(1, 10), end=at(1, 11), state=BookingState.CANCELLED)
    # The buffer is part of the held range.
    BookingFactory(machine=laser, start=at(2, 10), end=at(2, 11), blocked_until=at(2, 11, 30))
    with pytest.raises(IntegrityError), transaction.atomic():
        BookingFactory(machine=laser, start=at(2, 11, 15), end=at(2, 12))


def ready_certified(machine):
    from tests.factories.equipment import certify

    member = ready_member()
    certify(member, machine.required_certification)
    return member


def test_a_booking_spans_at_most_one_week_of_lookback():
    """The overlap query looks back a bounded span; rules refuse bookings longer than that."""
    from bookings.rules import LONGEST_BOOKING, LOOKBACK

    assert LONGEST_BOOKING + timedelta(hours=1) < LOOKBACK


def test_opening_hours_added_and_removed_decide_what_is_closed(maker, laser):
    """Staff's opening hours are what the booking rules see: added hours open, removed close."""
    from datetime import time

    from equipment.selectors import opening_intervals

    evening = at(3, 21), at(3, 22)  # Thursday, after the fixture's 9-21 hours
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, *evening)
    assert refused.value.reason == Refusal.CLOSED
    equipment_services.opening_hours_add(
        machine=laser, weekdays=[3], opens=time(21), closes=time(0), starting=at(0, 0).date()
    )
    assert book(maker, laser, *evening).pk
    all_week = next(i for i in opening_intervals(laser) if i.opens == time(9))
    equipment_services.opening_hours_remove(
        machine=laser, opening_id=all_week.opening_id, weekday=4
    )
    with pytest.raises(BookingRejected) as refused:
        book(maker, laser, at(4, 10), at(4, 11))
    assert refused.value.reason == Refusal.CLOSED
    assert book(maker, laser, at(5, 10), at(5, 11)).pk  # Saturday keeps its hours
