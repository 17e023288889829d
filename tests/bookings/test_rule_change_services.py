"""A change of a machine's rules is refused until confirmed with the bookings it breaks; then
it cancels those that can no longer be used (email, gates) and keeps the rest, in one go."""

from __future__ import annotations

import copy
from datetime import time, timedelta

import pytest
from django.core import mail

from bookings import services, waitlist
from bookings.models import Booking, BookingState, Wait, WaitState
from equipment import services as equipment_services
from equipment.consequences import ChangeNeedsConfirmation
from equipment.models import Machine, MachineEvent
from equipment.selectors import opening_intervals
from tests.bookings.conftest import at
from tests.factories.equipment import certification, certify
from tests.factories.membership import ready_member


def book(member, machine, start, end):
    return services.booking_create(member=member, machine=machine, start=start, end=end)


def changed(machine: Machine, **fields) -> Machine:
    """The machine as the edit form leaves it: a copy with the new values, not yet saved."""
    edited = copy.copy(machine)
    for name, value in fields.items():
        setattr(edited, name, value)
    return edited


def save(machine: Machine, **kwargs) -> Machine:
    return equipment_services.machine_save(machine=machine, maintainers=[], actor=None, **kwargs)


def asked(call) -> ChangeNeedsConfirmation:
    with pytest.raises(ChangeNeedsConfirmation) as refused:
        call()
    return refused.value


@pytest.fixture
def advanced(laser):
    return certification("Laser advanced")


def test_a_new_certification_waits_for_confirmation_then_cancels_and_emails(
    maker, laser, advanced, gate_calls, django_capture_on_commit_callbacks
):
    """The first save changes nothing and lists the booking of the member without the new
    certification; the confirmed save cancels it, emails its member why after the commit and
    tells the gates; the booking of a member who holds it stands."""
    lost = book(maker, laser, at(1, 10), at(1, 11))
    holder = ready_member()
    certify(holder, laser.required_certification)
    certify(holder, advanced)
    stays = book(holder, laser, at(1, 12), at(1, 13))
    mail.outbox.clear()
    gate_calls.clear()

    with django_capture_on_commit_callbacks(execute=True):
        refusal = asked(lambda: save(changed(laser, required_certification=advanced)))
    consequences = refusal.consequences
    assert [(a.booking_id, a.cancelled) for a in consequences.affected] == [(lost.pk, True)]
    assert "Laser advanced" in consequences.affected[0].why
    laser.refresh_from_db()
    assert laser.required_certification.name == "Laser cutter"
    assert Booking.objects.get(pk=lost.pk).state == BookingState.CONFIRMED
    assert mail.outbox == [] and gate_calls == []

    with django_capture_on_commit_callbacks(execute=True):
        save(changed(laser, required_certification=advanced), confirm=consequences.digest)
    laser.refresh_from_db()
    assert laser.required_certification == advanced
    lost.refresh_from_db()
    assert lost.state == BookingState.CANCELLED
    assert "now needs the Laser advanced certification" in lost.cancel_reason
    assert Booking.objects.get(pk=stays.pk).state == BookingState.CONFIRMED
    assert [message.to for message in mail.outbox] == [[maker.user.email]]
    assert "Laser advanced" in mail.outbox[0].body
    assert [kw["booking"].pk for name, kw in gate_calls if name == "booking_cancelled"] == [lost.pk]


def test_lower_limits_and_a_longer_buffer_keep_the_bookings_and_list_them(maker, laser):
    """Two bookings a day down to one, a 30-minute buffer: listed as kept, nothing cancelled."""
    first = book(maker, laser, at(1, 10), at(1, 11))
    second = book(maker, laser, at(1, 11), at(1, 12))
    mail.outbox.clear()
    edit = changed(laser, daily_bookings_per_member=1, buffer_minutes=30)
    consequences = asked(lambda: save(edit)).consequences
    assert consequences.cancelled == []
    assert [a.booking_id for a in consequences.kept] == [first.pk, second.pk]
    assert "30-minute buffer" in consequences.kept[0].why
    assert all("daily limit of bookings per member (1)" in kept.why for kept in consequences.kept)
    save(edit, confirm=consequences.digest)
    laser.refresh_from_db()
    assert (laser.daily_bookings_per_member, laser.buffer_minutes) == (1, 30)
    states = set(Booking.objects.values_list("state", flat=True))
    assert states == {BookingState.CONFIRMED} and mail.outbox == []


def test_a_change_that_breaks_nothing_saves_at_once(maker, laser):
    book(maker, laser, at(1, 10), at(1, 11))
    save(changed(laser, weekly_hours_per_member=3, name="Laser cutter 1"))
    laser.refresh_from_db()
    assert (laser.weekly_hours_per_member, laser.name) == (3, "Laser cutter 1")


def tuesday(laser):
    return next(i for i in opening_intervals(laser) if i.weekday == 1)


def test_removing_hours_cancels_the_bookings_in_them_once_confirmed(
    maker, laser, django_capture_on_commit_callbacks
):
    booking = book(maker, laser, at(1, 10), at(1, 11))
    monday = book(maker, laser, at(0, 10), at(0, 11))
    mail.outbox.clear()
    hours = tuesday(laser)

    def remove(**kwargs):
        return equipment_services.opening_hours_remove(
            machine=laser, opening_id=hours.opening_id, weekday=1, **kwargs
        )

    consequences = asked(remove).consequences
    assert [a.booking_id for a in consequences.cancelled] == [booking.pk]
    assert 1 in {i.weekday for i in opening_intervals(laser)}
    with django_capture_on_commit_callbacks(execute=True):
        remove(confirm=consequences.digest)
    assert 1 not in {i.weekday for i in opening_intervals(laser)}
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED and "no longer open" in booking.cancel_reason
    assert Booking.objects.get(pk=monday.pk).state == BookingState.CONFIRMED
    assert len(mail.outbox) == 1


def test_the_first_opening_hours_cancel_the_bookings_outside_them(maker, laser):
    MachineEvent.objects.filter(machine=laser).delete()  # open at any time
    early = book(maker, laser, at(1, 7), at(1, 8))
    book(maker, laser, at(1, 10), at(1, 11))

    def add(**kwargs):
        return equipment_services.opening_hours_add(
            machine=laser, weekdays=list(range(7)), opens=time(9), closes=time(21), **kwargs
        )

    consequences = asked(add).consequences
    assert [a.booking_id for a in consequences.affected] == [early.pk]
    assert not MachineEvent.objects.filter(machine=laser).exists()
    add(confirm=consequences.digest)
    assert Booking.objects.get(pk=early.pk).state == BookingState.CANCELLED


def test_a_confirmation_of_another_list_is_refused_with_the_new_list(maker, laser, advanced):
    """A booking made between the preview and the confirm: the change waits again."""
    book(maker, laser, at(1, 10), at(1, 11))
    edit = changed(laser, required_certification=advanced)
    digest = asked(lambda: save(edit)).consequences.digest
    later = book(maker, laser, at(2, 10), at(2, 11))
    again = asked(lambda: save(edit, confirm=digest)).consequences
    assert later.pk in [a.booking_id for a in again.affected] and again.digest != digest
    laser.refresh_from_db()
    assert laser.required_certification.name == "Laser cutter"
    assert Booking.objects.filter(state=BookingState.CONFIRMED).count() == 2


def test_a_failure_while_cancelling_cancels_nothing_and_saves_nothing(
    maker, laser, advanced, monkeypatch, django_capture_on_commit_callbacks
):
    """The change, the cancellations and their emails commit together or not at all."""
    book(maker, laser, at(1, 10), at(1, 11))
    book(maker, laser, at(2, 10), at(2, 11))
    mail.outbox.clear()
    edit = changed(laser, required_certification=advanced)
    digest = asked(lambda: save(edit)).consequences.digest
    calls = []

    def failing_gate(booking):
        calls.append(booking.pk)
        if len(calls) == 2:
            raise RuntimeError("the outbox is down")

    monkeypatch.setattr(services, "_announce_cancelled", failing_gate)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        save(edit, confirm=digest)
    assert len(calls) == 2
    laser.refresh_from_db()
    assert laser.required_certification.name == "Laser cutter"
    assert Booking.objects.filter(state=BookingState.CONFIRMED).count() == 2
    assert mail.outbox == []


def test_the_freed_time_goes_to_the_first_waiting_member_the_new_rules_allow(
    maker, laser, advanced, django_capture_on_commit_callbacks
):
    """As every cancellation for the machine: the time goes to the waitlist, each waiting
    member judged by the rules as saved (the earlier one without the new certification is
    passed over)."""
    holder = ready_member()
    certify(holder, laser.required_certification)
    booked = book(holder, laser, at(1, 10), at(1, 12))
    earlier = ready_member()
    certify(earlier, laser.required_certification)
    certify(maker, advanced)
    for member in (earlier, maker):
        waitlist.wait_join(member=member, machine=laser, start=at(1, 10), end=at(1, 12))
    edit = changed(laser, required_certification=advanced)
    digest = asked(lambda: save(edit)).consequences.digest
    with django_capture_on_commit_callbacks(execute=True):
        save(edit, confirm=digest)
    assert Booking.objects.get(pk=booked.pk).state == BookingState.CANCELLED
    assert Wait.objects.get(member=maker).state == WaitState.OFFERED
    passed_over = Wait.objects.get(member=earlier)
    assert passed_over.state == WaitState.WAITING and passed_over.skipped_at is not None


def test_a_booking_under_way_is_kept_whatever_the_new_rules_say(
    maker, laser, advanced, frozen, django_capture_on_commit_callbacks
):
    """The member at the machine keeps it: the change saves at once and cancels nothing; their
    next booking, which the new certification breaks, is listed."""
    running = book(maker, laser, at(0, 9), at(0, 11))
    frozen.shift(timedelta(hours=1, minutes=5))
    services.booking_check_in(booking=running)
    later = book(maker, laser, at(1, 10), at(1, 11))

    refusal = asked(lambda: save(changed(laser, required_certification=advanced)))
    assert [a.booking_id for a in refusal.consequences.affected] == [later.pk]
    with django_capture_on_commit_callbacks(execute=True):
        save(changed(laser, required_certification=advanced), confirm=refusal.consequences.digest)
    assert Booking.objects.get(pk=running.pk).state == BookingState.CHECKED_IN
    assert Booking.objects.get(pk=later.pk).state == BookingState.CANCELLED
