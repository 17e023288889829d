"""The machine waitlist: members wait for taken time, freed time is offered to the first one
waiting (held for them), passed on when they lapse or decline, and booked by the usual rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import translation

from bookings import services, waitlist
from bookings.errors import BookingRejected
from bookings.models import Booking, BookingState, Wait, WaitState
from bookings.rules import Refusal
from tests.bookings.conftest import NOW, at
from tests.concurrency import at_once
from tests.factories.equipment import certify
from tests.factories.membership import ready_member
from training.models import MemberCertification

SPAN = (at(1, 10), at(1, 12))  # Tuesday 10:00-12:00


def certified(machine):
    member = ready_member()
    certify(member, machine.required_certification)
    return member


@pytest.fixture
def booked(laser):
    """Tuesday 10:00-12:00 booked by a member who may cancel it."""
    holder = certified(laser)
    return services.booking_create(member=holder, machine=laser, start=SPAN[0], end=SPAN[1])


def join(member, machine, start=SPAN[0], end=SPAN[1]):
    return waitlist.wait_join(member=member, machine=machine, start=start, end=end)


def cancel(booking, callbacks):
    with callbacks(execute=True):
        services.booking_cancel(booking=booking, actor=booking.member.user)


def test_a_member_joins_the_waitlist_for_a_taken_span(maker, laser, booked):
    wait = join(maker, laser)
    assert (wait.state, wait.start, wait.end) == (WaitState.WAITING, *SPAN)


def test_free_time_and_ones_own_booking_are_not_waited_for(maker, laser, booked):
    """Free time is booked, not waited for; one's own booking needs no wait."""
    with pytest.raises(BookingRejected) as refused:
        join(maker, laser, at(2, 10), at(2, 11))
    assert refused.value.reason is Refusal.WAIT_FREE
    with pytest.raises(BookingRejected) as refused:
        join(booked.member, laser)
    assert refused.value.reason is Refusal.WAIT_YOURS
    assert not Wait.objects.exists()


def test_a_member_who_may_not_book_the_machine_is_told_why(laser, booked):
    """The same refusal, and sentence, as booking it would give."""
    uncertified = ready_member()
    with pytest.raises(BookingRejected) as refused:
        join(uncertified, laser)
    assert refused.value.reason is Refusal.NOT_CERTIFIED
    assert "Laser cutter certification" in refused.value.message


def test_one_place_per_member_and_span(maker, laser, booked):
    """A second join is refused, and the database refuses a second open row too."""
    join(maker, laser)
    with pytest.raises(BookingRejected) as refused:
        join(maker, laser)
    assert refused.value.reason is Refusal.WAIT_CLOSED
    with pytest.raises(IntegrityError), transaction.atomic():
        Wait.objects.create(member=maker, machine=laser, start=SPAN[0], end=SPAN[1])


def test_a_member_leaves_and_may_join_again(maker, laser, booked):
    wait = waitlist.wait_leave(wait=join(maker, laser), actor=maker.user)
    assert wait.state == WaitState.LEFT
    assert join(maker, laser).state == WaitState.WAITING
    with pytest.raises(BookingRejected) as refused:
        waitlist.wait_leave(wait=wait, actor=maker.user)
    assert refused.value.reason is Refusal.WAIT_CLOSED


def test_a_cancellation_offers_the_time_to_the_first_waiting_and_holds_it(
    maker, laser, booked, django_capture_on_commit_callbacks
):
    """First come, first served: the earliest to join is offered it by email with a one-click
    link, until the deadline; nobody else can book it meanwhile, the offered member can."""
    wait = join(maker, laser)
    second = certified(laser)
    join(second, laser)
    mail.outbox.clear()
    cancel(booked, django_capture_on_commit_callbacks)
    wait.refresh_from_db()
    assert wait.state == WaitState.OFFERED
    assert wait.offer_until == NOW + timedelta(minutes=30)
    assert Wait.objects.get(member=second).state == WaitState.WAITING
    offer = next(m for m in mail.outbox if m.to == [maker.user.email])
    assert "held for you until" in offer.subject
    assert reverse("bookings:wait_offer", args=[wait.pk]) in offer.body
    with pytest.raises(BookingRejected) as refused:
        services.booking_create(member=second, machine=laser, start=SPAN[0], end=SPAN[1])
    assert refused.value.reason is Refusal.HELD
    booking = services.wait_offer_accept(wait=wait, actor=maker.user)
    assert (booking.member, booking.start, booking.end) == (maker, *SPAN)
    wait.refresh_from_db()
    assert (wait.state, wait.booking) == (WaitState.BOOKED, booking)


def test_booking_the_offered_time_from_the_grid_ends_the_wait(
    maker, laser, booked, django_capture_on_commit_callbacks
):
    """The member offered the time may book it as any booking; their wait is then over."""
    wait = join(maker, laser)
    cancel(booked, django_capture_on_commit_callbacks)
    services.booking_create(member=maker, machine=laser, start=SPAN[0], end=SPAN[1])
    assert Wait.objects.get(pk=wait.pk).state == WaitState.BOOKED


def test_a_lapsed_offer_goes_to_the_next_member(
    maker, laser, booked, frozen, django_capture_on_commit_callbacks
):
    first = join(maker, laser)
    second = certified(laser)
    join(second, laser)
    cancel(booked, django_capture_on_commit_callbacks)
    frozen.shift(timedelta(minutes=31))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert waitlist.waitlist_tick()["lapsed"] == 1
    first.refresh_from_db()
    assert first.state == WaitState.LAPSED
    assert Wait.objects.get(member=second).state == WaitState.OFFERED
    assert [m.to for m in mail.outbox] == [[second.user.email]]
    with pytest.raises(BookingRejected) as refused:
        services.wait_offer_accept(wait=first, actor=maker.user)
    assert refused.value.reason is Refusal.OFFER_CLOSED


def test_a_declined_offer_goes_to_the_next_member(
    maker, laser, booked, django_capture_on_commit_callbacks
):
    first = join(maker, laser)
    second = certified(laser)
    join(second, laser)
    cancel(booked, django_capture_on_commit_callbacks)
    waitlist.wait_offer_decline(wait=first, actor=maker.user)
    assert Wait.objects.get(member=second).state == WaitState.OFFERED
    assert Wait.objects.get(pk=first.pk).state == WaitState.DECLINED


def test_a_member_who_lost_their_certification_is_passed_over_with_the_reason(
    maker, laser, booked, django_capture_on_commit_callbacks
):
    first = join(maker, laser)
    second = certified(laser)
    join(second, laser)
    MemberCertification.objects.filter(member=maker).update(revoked_at=NOW)
    cancel(booked, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert first.state == WaitState.WAITING
    assert "Laser cutter certification" in first.skip_reason
    assert Wait.objects.get(member=second).state == WaitState.OFFERED
    told = [m for m in mail.outbox if m.to == [maker.user.email]]
    assert len(told) == 1
    assert "came free, but not for you" in told[0].subject
    assert first.skip_reason in told[0].body
    assert reverse("dashboard") in told[0].body


def test_a_member_passed_over_again_for_the_same_reason_is_not_emailed_again(
    maker, laser, booked, django_capture_on_commit_callbacks
):
    wait = join(maker, laser)
    MemberCertification.objects.filter(member=maker).update(revoked_at=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        waitlist.waits_offer(machine=laser, start=SPAN[0], end=SPAN[1], now=NOW)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        waitlist.waits_offer(machine=laser, start=SPAN[0], end=SPAN[1], now=NOW)
    wait.refresh_from_db()
    assert "Laser cutter certification" in wait.skip_reason
    assert wait.skip_code == Refusal.NOT_CERTIFIED.value
    assert mail.outbox == []


def test_the_same_reason_in_another_language_is_not_emailed_again(
    maker, laser, booked, django_capture_on_commit_callbacks
):
    """Told once per reason: the reason's code is compared, not its sentence, which is in the
    language of whoever freed the time."""
    wait = join(maker, laser)
    MemberCertification.objects.filter(member=maker).update(revoked_at=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        waitlist.waits_offer(machine=laser, start=SPAN[0], end=SPAN[1], now=NOW)
    mail.outbox.clear()
    with translation.override("ko"), django_capture_on_commit_callbacks(execute=True):
        waitlist.waits_offer(machine=laser, start=SPAN[0], end=SPAN[1], now=NOW)
    wait.refresh_from_db()
    assert "Laser cutter certification" not in wait.skip_reason  # the Korean sentence now
    assert mail.outbox == []


def test_a_new_reason_is_emailed(maker, laser, booked, django_capture_on_commit_callbacks):
    """Passed over for the day's bookings limit, then for a lost certification: told twice."""
    wait = join(maker, laser)
    for hour in (14, 16):
        services.booking_create(member=maker, machine=laser, start=at(1, hour), end=at(1, hour + 1))
    mail.outbox.clear()
    cancel(booked, django_capture_on_commit_callbacks)
    assert Wait.objects.get(pk=wait.pk).skip_code == Refusal.DAILY_QUOTA.value
    MemberCertification.objects.filter(member=maker).update(revoked_at=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        waitlist.waits_offer(machine=laser, start=SPAN[0], end=SPAN[1], now=NOW)
    wait.refresh_from_db()
    assert wait.skip_code == Refusal.NOT_CERTIFIED.value
    assert len([m for m in mail.outbox if "not for you yet" in m.subject]) == 2


def test_taking_an_offer_is_judged_by_the_booking_rules(
    maker, laser, booked, django_capture_on_commit_callbacks
):
    """A certification lost after the offer refuses the booking, and nothing is written."""
    wait = join(maker, laser)
    cancel(booked, django_capture_on_commit_callbacks)
    MemberCertification.objects.filter(member=maker).update(revoked_at=NOW)
    with pytest.raises(BookingRejected) as refused:
        services.wait_offer_accept(wait=wait, actor=maker.user)
    assert refused.value.reason is Refusal.NOT_CERTIFIED
    assert Wait.objects.get(pk=wait.pk).state == WaitState.OFFERED
    assert not Booking.objects.filter(member=maker).exists()
    with pytest.raises(BookingRejected) as refused:
        services.wait_offer_accept(wait=wait, actor=booked.member.user)
    assert refused.value.reason is Refusal.NOT_YOURS


def test_only_waits_meeting_the_freed_time_are_offered(
    maker, laser, booked, django_capture_on_commit_callbacks
):
    """A wait for other time on the machine is not woken by this cancellation."""
    later = services.booking_create(
        member=booked.member, machine=laser, start=at(2, 10), end=at(2, 11)
    )
    other = join(maker, laser, at(2, 10), at(2, 11))
    cancel(booked, django_capture_on_commit_callbacks)
    assert Wait.objects.get(pk=other.pk).state == WaitState.WAITING
    assert later.state == BookingState.CONFIRMED


def test_a_released_no_show_is_offered_as_a_walk_up(
    maker, laser, frozen, django_capture_on_commit_callbacks
):
    """A no-show releases the rest of the slot: the first member waiting may walk up, the
    offer holding until the first slot ends."""
    holder = certified(laser)
    booking = services.booking_create(member=holder, machine=laser, start=at(0, 9), end=at(0, 11))
    wait = join(maker, laser, at(0, 9), at(0, 11))
    frozen.move_to(at(0, 9, 16))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.bookings_release()["no_shows"] == 1
    wait.refresh_from_db()
    assert wait.state == WaitState.OFFERED
    assert wait.offer_until == at(0, 9, 30)
    assert services.wait_offer_accept(wait=wait, actor=maker.user).start == booking.start


def test_finishing_early_offers_the_rest(maker, laser, frozen):
    holder = certified(laser)
    booking = services.booking_create(member=holder, machine=laser, start=at(0, 9), end=at(0, 11))
    wait = join(maker, laser, at(0, 10), at(0, 11))
    frozen.move_to(at(0, 9, 5))
    services.booking_check_in(booking=booking)
    frozen.move_to(at(0, 9, 50))
    services.booking_finish(booking=booking, actor=holder.user)
    wait.refresh_from_db()
    assert (wait.state, wait.offer_until) == (WaitState.OFFERED, at(0, 10))


# Partial spans: a member waits for the time they want, not for a whole booking.


def test_a_span_across_two_bookings_is_offered_when_both_have_freed(
    maker, laser, booked, django_capture_on_commit_callbacks
):
    """Wanted 11:00-13:00 across Tuesday's 10:00-12:00 and 12:00-13:00: not offered while a
    part is still booked (nor emailed), offered once the second booking frees the rest."""
    after = services.booking_create(
        member=certified(laser), machine=laser, start=at(1, 12), end=at(1, 13)
    )
    wait = join(maker, laser, at(1, 11), at(1, 13))
    mail.outbox.clear()
    cancel(booked, django_capture_on_commit_callbacks)
    wait.refresh_from_db()
    assert (wait.state, wait.skip_code) == (WaitState.WAITING, "")
    assert mail.outbox == []
    services.booking_create(member=certified(laser), machine=laser, start=at(1, 10), end=at(1, 11))
    cancel(after, django_capture_on_commit_callbacks)
    wait.refresh_from_db()
    assert wait.state == WaitState.OFFERED
    assert [m.to for m in mail.outbox] == [[maker.user.email]]
    booking = services.wait_offer_accept(wait=wait, actor=maker.user)
    assert (booking.start, booking.end) == (at(1, 11), at(1, 13))


def test_part_of_a_booking_is_offered_when_a_no_show_releases_the_rest(
    maker, laser, frozen, django_capture_on_commit_callbacks
):
    """Wanted 10:00-11:00 of someone's 09:00-12:00: their no-show frees it, held till 10:00."""
    services.booking_create(member=certified(laser), machine=laser, start=at(0, 9), end=at(0, 12))
    wait = join(maker, laser, at(0, 10), at(0, 11))
    frozen.move_to(at(0, 9, 16))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.bookings_release()["no_shows"] == 1
    wait.refresh_from_db()
    assert (wait.state, wait.offer_until) == (WaitState.OFFERED, at(0, 9, 46))


def test_overlapping_waits_are_offered_first_come_first_served(
    maker, laser, booked, django_capture_on_commit_callbacks
):
    """Three waits in 10:00-12:00: the first (10:30-11:30) is offered and held; the second
    (10:00-11:00) meets the hold and waits on; the third (11:30-12:00) is free of it and is
    offered too. The first declines: the second is offered."""
    first = join(maker, laser, at(1, 10, 30), at(1, 11, 30))
    second = join(certified(laser), laser, at(1, 10), at(1, 11))
    third = join(certified(laser), laser, at(1, 11, 30), at(1, 12))
    cancel(booked, django_capture_on_commit_callbacks)
    states = [Wait.objects.get(pk=w.pk).state for w in (first, second, third)]
    assert states == [WaitState.OFFERED, WaitState.WAITING, WaitState.OFFERED]
    waitlist.wait_offer_decline(wait=first, actor=maker.user)
    assert Wait.objects.get(pk=second.pk).state == WaitState.OFFERED


def test_a_wait_whose_buffer_meets_the_freed_booking_is_offered(
    maker, laser, booked, django_capture_on_commit_callbacks
):
    """On a machine that keeps 15 minutes free after each booking, 09:00-10:00 is taken by the
    10:00 booking (its buffer would run into it); cancelling that booking offers it."""
    laser.buffer_minutes = 15
    laser.save(update_fields=["buffer_minutes"])
    wait = join(maker, laser, at(1, 9), at(1, 10))
    cancel(booked, django_capture_on_commit_callbacks)
    assert Wait.objects.get(pk=wait.pk).state == WaitState.OFFERED


def test_waits_whose_time_passed_are_dropped(maker, laser, booked, frozen):
    wait = join(maker, laser)
    frozen.move_to(at(1, 10, 30))
    assert waitlist.waitlist_tick()["over"] == 1
    assert Wait.objects.get(pk=wait.pk).state == WaitState.OVER


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_accepts_at_once_book_once(laser, frozen):
    """Two clicks on the offer at the same moment (two tabs): one booking, the other refused."""
    assert connection.vendor == "postgresql"
    holder, waiting = certified(laser), certified(laser)
    booking = services.booking_create(member=holder, machine=laser, start=SPAN[0], end=SPAN[1])
    wait = join(waiting, laser)
    services.booking_cancel(booking=booking, actor=holder.user)
    results = at_once(
        lambda: services.wait_offer_accept(wait=wait, actor=waiting.user),
        lambda: services.wait_offer_accept(wait=wait, actor=waiting.user),
    )
    booked = [r for r in results if isinstance(r, Booking)]
    refused = [r for r in results if isinstance(r, BookingRejected)]
    assert len(booked) == 1 and len(refused) == 1, results
    assert refused[0].reason is Refusal.OFFER_CLOSED
    assert Booking.objects.filter(member=waiting, state=BookingState.CONFIRMED).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_booking_actions_machine_lock_lets_rows_pointing_at_the_machine_be_written(laser):
    """While a cancellation holds the machine (to offer the freed time), a gate still logs a
    scan on it: the lock is NO KEY, so an insert referencing the machine is not held up (a
    scan holding its booking while it waited would deadlock with the cancellation)."""
    import threading

    from bookings.locking import machine_lock
    from tests.factories.bookings import BookingFactory

    holding, written = threading.Event(), threading.Event()

    def lock_and_hold():
        with transaction.atomic():
            machine_lock(laser)
            holding.set()
            assert written.wait(timeout=10)

    def write_pointing_row():
        assert holding.wait(timeout=10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '3s'")
            BookingFactory(machine=laser, start=at(3, 10), end=at(3, 11))
        written.set()
        return "written"

    results = at_once(lock_and_hold, write_pointing_row)
    written.set()  # never leave the holder waiting, whatever happened
    assert results[1] == "written", results
