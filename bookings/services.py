"""Booking actions: create, cancel, check in, extend, release no-shows, maintenance over bookings.

Each action is atomic. The machine row is locked first, so actions on one machine run one after
another (quotas and overlap checks see each other's writes); on PostgreSQL the exclusion constraint
is the final judge, on SQLite the transaction itself is serialized (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import notifications, rules, selectors
from bookings.errors import BookingRejected
from bookings.locking import machine_lock
from bookings.models import Booking, CalendarFeed, Wait
from bookings.rules import Refusal
from bookings.states import ACTIVE_STATES, OPEN_WAIT_STATES, BookingState, WaitState
from bookings.waitlist import waits_offer
from core import clock, events
from core.gates import gates
from core.submissions import submission_claim
from core.time import add_duration, duration_between
from equipment import services as equipment_services
from equipment.errors import EquipmentError
from equipment.models import Machine, MachineEvent
from equipment.selectors import machine_event_spans
from locations.models import Area, Location
from membership.models import Member, User
from training import scheduling
from training.models import ClassSession

logger = logging.getLogger(__name__)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _is_booking_staff(user: User | None, machine: Machine) -> bool:
    """Staff who manage bookings at the machine's location (staffing.permissions)."""
    return user is not None and user.has_perm("bookings.manage_bookings", machine)


def booking_create(
    *,
    member: Member,
    machine: Machine,
    start: datetime,
    end: datetime,
    actor: User | None = None,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Booking:
    """Book `machine` for `member` from `start` to `end`, if every rule allows it.

    `actor` is who clicks: the member, or staff booking for them. The member gets a confirmation
    email once the booking is committed.
    """
    now = now or clock.now()
    if actor is not None and actor.pk != member.user_id and not _is_booking_staff(actor, machine):
        raise BookingRejected(rules.refuse(Refusal.NOT_YOURS))
    with transaction.atomic():
        submission_claim(token)
        locked = machine_lock(machine)
        facts = selectors.booking_facts(
            member=member, machine=locked, start=start, end=end, now=now
        )
        refused = rules.booking_refusal(facts, selectors.machine_rules(locked))
        if refused is not None:
            raise BookingRejected(refused)
        try:
            with transaction.atomic():
                booking = Booking.objects.create(
                    machine=locked,
                    member=member,
                    start=start,
                    end=end,
                    blocked_until=add_duration(end, timedelta(minutes=locked.buffer_minutes)),
                    created_at=now,
                    created_by=actor,
                )
        except IntegrityError:
            # The exclusion constraint caught a booking the check could not see.
            raise BookingRejected(
                rules.refuse(Refusal.OVERLAP, machine=locked.name, buffer="")
            ) from None
        notifications.send_confirmation.delay_on_commit(booking.pk)
        # Waiting for time one has now booked (from an offer, or the grid) is over.
        Wait.objects.filter(
            member=member, machine=locked, state__in=OPEN_WAIT_STATES, start__lt=end, end__gt=start
        ).update(state=WaitState.BOOKED, ended_at=now)
        _announce_changed(booking.machine)
        events.emit(events.BOOKING_CREATED, booking)
    return booking


def wait_offer_accept(
    *,
    wait: Wait,
    actor: User | None,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Booking:
    """Take a waitlist offer: its member books the span held for them, judged by every rule of
    `booking_create` (a certification lost since the offer refuses it). The offer's row is
    locked, so a second click, or a lapse at the same moment, finds it taken or gone."""
    now = now or clock.now()
    with transaction.atomic():
        submission_claim(token)
        machine_lock(wait.machine)
        locked = (
            Wait.objects.select_for_update().select_related("member", "machine").get(pk=wait.pk)
        )
        refused = rules.accept_refusal(
            is_owner=actor is not None and locked.member.user_id == actor.pk,
            state=locked.state,
            offer_until=locked.offer_until,
            now=now,
        )
        if refused is not None:
            raise BookingRejected(refused)
        booking = booking_create(
            member=locked.member,
            machine=locked.machine,
            start=locked.start,
            end=locked.end,
            actor=actor,
            now=now,
        )
        locked.state, locked.booking, locked.ended_at = WaitState.BOOKED, booking, now
        locked.save(update_fields=["state", "booking", "ended_at"])
    return booking


@dataclass(frozen=True)
class SeriesResult:
    """What a weekly series came to: each week's booking, or the rule that refused that week."""

    booked: list[Booking]
    refused: list[tuple[datetime, BookingRejected]]


def bookings_create_weekly(
    *,
    member: Member,
    machine: Machine,
    start: datetime,
    end: datetime,
    weeks: int,
    actor: User | None = None,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> SeriesResult:
    """The same slot every week for `weeks` weeks ("every Tuesday 18:00 for 6 weeks"): each week
    is a booking of its own, judged by every rule as `booking_create` judges one; the weeks the
    rules refuse (beyond the horizon, taken, a class) are reported, the others booked.

    The wall-clock time stays the same across a daylight-saving change; the length is real time.
    """
    now = now or clock.now()
    length = duration_between(start, end)
    local_start = timezone.localtime(start)
    booked, refused = [], []
    with transaction.atomic():
        submission_claim(token)
        for week in range(weeks):
            # Wall-clock arithmetic in the space's zone: 18:00 stays 18:00 after the clocks change.
            week_start = local_start + timedelta(weeks=week)
            try:
                booked.append(
                    booking_create(
                        member=member,
                        machine=machine,
                        start=week_start,
                        end=add_duration(week_start, length),
                        actor=actor,
                        now=now,
                    )
                )
            except BookingRejected as rejected:
                refused.append((week_start, rejected))
    return SeriesResult(booked, refused)


def bookings_create_together(
    *,
    member: Member,
    machines: list[Machine],
    start: datetime,
    end: datetime,
    actor: User | None = None,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> list[Booking]:
    """Several machines for the same time (a laser and its fume extractor): all or none. Each is
    judged by `booking_create`'s rules; the first refusal undoes the others and is raised."""
    now = now or clock.now()
    with transaction.atomic():
        submission_claim(token)
        # Machines locked in one order (by id), so two such requests cannot deadlock.
        return [
            booking_create(
                member=member, machine=machine, start=start, end=end, actor=actor, now=now
            )
            for machine in sorted(machines, key=lambda m: m.pk)
        ]


def booking_cancel(
    *,
    booking: Booking,
    actor: User | None,
    reason: str = "",
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Booking:
    """Cancel a booking: its member up to the start, staff until its end. Records are kept."""
    now = now or clock.now()
    with transaction.atomic():
        submission_claim(token)
        # The machine first, as every action on it: the freed time is offered to its waitlist.
        locked_machine = machine_lock(booking.machine)
        locked = Booking.objects.select_for_update().select_related("member").get(pk=booking.pk)
        is_staff = _is_booking_staff(actor, booking.machine)
        refused = rules.cancel_refusal(
            is_owner=actor is not None and locked.member.user_id == actor.pk,
            is_staff=is_staff,
            state=locked.state,
            start=locked.start,
            end=locked.end,
            now=now,
        )
        if refused is not None:
            raise BookingRejected(refused)
        locked.state = rules.cancelled_state(
            start=locked.start, now=now, late_minutes=_setting("BOOKING_LATE_CANCEL_MINUTES", 120)
        )
        locked.cancelled_at = now
        locked.cancelled_by = actor
        locked.cancel_reason = reason.strip()
        locked.save(update_fields=["state", "cancelled_at", "cancelled_by", "cancel_reason"])
        _announce_cancelled(locked)
        events.emit(events.BOOKING_CANCELLED, locked)
        _offer_freed(locked_machine, locked, now=now)
        if actor is None or actor.pk != locked.member.user_id:
            notifications.send_cancellation.delay_on_commit(locked.pk)
    return locked


def booking_check_in(
    *, booking: Booking, actor: User | None = None, now: datetime | None = None
) -> Booking:
    """Check in to a booking: the gate's badge scan, or staff by hand (`actor`)."""
    now = now or clock.now()
    with transaction.atomic():
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        refused = rules.check_in_refusal(
            state=locked.state,
            start=locked.start,
            end=locked.end,
            now=now,
            opens_minutes=selectors.check_in_opens() // timedelta(minutes=1),
        )
        if refused is not None:
            raise BookingRejected(refused)
        locked.state = BookingState.CHECKED_IN
        locked.checked_in_at = now
        locked.checked_in_by = actor
        locked.save(update_fields=["state", "checked_in_at", "checked_in_by"])
        events.emit(events.BOOKING_CHECKED_IN, locked)
    return locked


def booking_extend(
    *,
    booking: Booking,
    new_end: datetime,
    actor: User | None = None,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Booking:
    """Extend a running booking to `new_end` if the machine is free and every rule allows it."""
    now = now or clock.now()
    with transaction.atomic():
        submission_claim(token)
        current = Booking.objects.select_related("member__user").get(pk=booking.pk)
        if (
            actor is not None
            and actor.pk != current.member.user_id
            and not _is_booking_staff(actor, current.machine)
        ):
            raise BookingRejected(rules.refuse(Refusal.NOT_YOURS))
        locked_machine = machine_lock(current.machine)
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        refused = rules.extend_refusal(
            state=locked.state, start=locked.start, end=locked.end, new_end=new_end, now=now
        )
        if refused is None:
            facts = selectors.booking_facts(
                member=current.member,
                machine=locked_machine,
                start=locked.start,
                end=new_end,
                now=now,
                exclude_pk=locked.pk,
                extending=True,
            )
            refused = rules.booking_refusal(facts, selectors.machine_rules(locked_machine))
        if refused is not None:
            raise BookingRejected(refused)
        locked.end = new_end
        locked.blocked_until = add_duration(
            new_end, timedelta(minutes=locked_machine.buffer_minutes)
        )
        locked.extended_count += 1
        try:
            with transaction.atomic():
                locked.save(update_fields=["end", "blocked_until", "extended_count"])
                _announce_changed(locked.machine)
                gates().booking_extended(booking=locked)
        except IntegrityError:
            raise BookingRejected(
                rules.refuse(Refusal.OVERLAP, machine=locked_machine.name, buffer="")
            ) from None
    return locked


def booking_hand_over(
    *,
    booking: Booking,
    to_member: Member,
    actor: User | None,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Booking:
    """Give a booking that has not started to another member, who must meet every rule for it
    (paid up, certified, their own quotas): the same judgement as booking it themselves. The new
    holder gets the confirmation email; the gates' lists follow."""
    now = now or clock.now()
    with transaction.atomic():
        submission_claim(token)
        current = Booking.objects.select_related("member").get(pk=booking.pk)
        locked_machine = machine_lock(current.machine)
        locked = Booking.objects.select_for_update().select_related("member").get(pk=booking.pk)
        refused = rules.hand_over_refusal(
            is_owner=actor is not None and locked.member.user_id == actor.pk,
            is_staff=_is_booking_staff(actor, locked_machine),
            same_member=locked.member_id == to_member.pk,
            state=locked.state,
            start=locked.start,
            now=now,
        )
        if refused is None:
            facts = selectors.booking_facts(
                member=to_member,
                machine=locked_machine,
                start=locked.start,
                end=locked.end,
                now=now,
                exclude_pk=locked.pk,
            )
            refused = rules.booking_refusal(facts, selectors.machine_rules(locked_machine))
        if refused is not None:
            raise BookingRejected(refused)
        locked.member = to_member
        locked.save(update_fields=["member"])
        notifications.send_confirmation.delay_on_commit(locked.pk)
        _announce_changed(locked_machine)
    return locked


def booking_finish(
    *,
    booking: Booking,
    actor: User | None,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Booking:
    """ "I'm done": end a running booking now. The machine switches off and is free for others
    (after its buffer); the booking counts as completed, its unused time handed back."""
    now = now or clock.now()
    with transaction.atomic():
        submission_claim(token)
        current = Booking.objects.select_related("member").get(pk=booking.pk)
        locked_machine = machine_lock(current.machine)
        locked = Booking.objects.select_for_update().select_related("member").get(pk=booking.pk)
        refused = rules.finish_refusal(
            is_owner=actor is not None and locked.member.user_id == actor.pk,
            is_staff=_is_booking_staff(actor, locked_machine),
            state=locked.state,
            start=locked.start,
            end=locked.end,
            now=now,
        )
        if refused is not None:
            raise BookingRejected(refused)
        held_until = locked.blocked_until
        locked.end = max(now, add_duration(locked.start, timedelta(seconds=1)))
        locked.blocked_until = add_duration(
            locked.end, timedelta(minutes=locked_machine.buffer_minutes)
        )
        locked.state = BookingState.COMPLETED
        locked.released_at = now
        locked.save(update_fields=["end", "blocked_until", "state", "released_at"])
        gates().booking_finished(booking=locked)
        waits_offer(machine=locked_machine, start=locked.blocked_until, end=held_until, now=now)
    return locked


def bookings_release(*, now: datetime | None = None) -> dict[str, int]:
    """Release no-shows and complete finished bookings. Safe to run as often as you like.

    A confirmed booking nobody checked in to within BOOKING_NO_SHOW_GRACE_MINUTES of its start is
    released (the machine becomes free for the rest of the slot) and counts as a no-show. A
    walk-up booking, made after its start, gets the same grace from the moment it was made.
    """
    now = now or clock.now()
    grace = timedelta(minutes=_setting("BOOKING_NO_SHOW_GRACE_MINUTES", 15))
    due = Booking.objects.filter(
        state=BookingState.CONFIRMED, start__lte=now - grace, created_at__lte=now - grace
    )
    with transaction.atomic():
        # Their machines first, in one order, as every action on a machine: the freed time is
        # offered to each machine's waitlist.
        machines = [
            machine_lock(machine)
            for machine in Machine.objects.filter(pk__in=due.values("machine_id")).order_by("pk")
        ]
        no_shows = list(due.select_for_update().values_list("pk", "machine_id"))
        Booking.objects.filter(pk__in=[pk for pk, _ in no_shows]).update(
            state=BookingState.NO_SHOW, released_at=now
        )
        completed = Booking.objects.filter(state=BookingState.CHECKED_IN, end__lte=now).update(
            state=BookingState.COMPLETED, released_at=now
        )
        released = Booking.objects.filter(pk__in=dict(no_shows))
        events.emit_each(events.BOOKING_NO_SHOW, released)
        by_machine = {machine.pk: machine for machine in machines}
        for booking in released:
            _offer_freed(by_machine[booking.machine_id], booking, now=now)
        # A released slot leaves the gates' offline allow-lists too.
        for machine in machines:
            if machine.pk in {machine_id for _, machine_id in no_shows}:
                _announce_changed(machine)
    return {"no_shows": len(no_shows), "completed": completed}


def bookings_send_reminders(*, now: datetime | None = None) -> int:
    """Queue a reminder email once per booking, BOOKING_REMINDER_MINUTES before it starts;
    returns how many were queued (the task runner sends them, retrying a refusing server)."""
    now = now or clock.now()
    lead = timedelta(minutes=_setting("BOOKING_REMINDER_MINUTES", 60))
    due = Booking.objects.filter(
        state=BookingState.CONFIRMED,
        reminder_sent_at__isnull=True,
        start__gt=now,
        start__lte=now + lead,
    ).values_list("pk", flat=True)
    sent = 0
    for booking_id in list(due):
        # Claiming with a conditional update makes two overlapping runs send each reminder once.
        claimed = Booking.objects.filter(pk=booking_id, reminder_sent_at__isnull=True).update(
            reminder_sent_at=now
        )
        if claimed:
            notifications.send_reminder.delay(booking_id)
            sent += 1
    return sent


def _offer_freed(machine: Machine, booking: Booking, *, now: datetime) -> None:
    """The time a booking held, from now on, goes to the first members waiting for it."""
    waits_offer(machine=machine, start=max(booking.start, now), end=booking.blocked_until, now=now)


def _announce_cancelled(booking: Booking) -> None:
    """Tell the gate, in this transaction: a running machine of this booking must stop."""
    gates().booking_cancelled(booking=booking)


def _announce_changed(machine: Machine) -> None:
    """The machine's gates' offline allow-lists follow its bookings, in this transaction."""
    gates().machines_changed(machines=[machine])


def _cancel_for_machine_block(
    *,
    machine: Machine,
    start: datetime,
    end: datetime,
    reason: str,
    actor: User | None,
    now: datetime,
) -> list[Booking]:
    affected = Booking.objects.filter(
        machine=machine, state__in=ACTIVE_STATES, start__lt=end, end__gt=start
    ).filter(end__gt=now)
    return bookings_cancel_for_machine(
        machine=machine, bookings=affected, reason=reason, actor=actor, now=now
    )


def bookings_cancel_for_machine(
    *,
    machine: Machine,
    bookings: QuerySet[Booking],
    reason: str,
    actor: User | None,
    now: datetime,
) -> list[Booking]:
    """Cancel the still active ones of `bookings` on `machine` (locked by the caller, as it now
    stands) because of the machine: maintenance, a class, new rules. In the caller's
    transaction; not the member's doing, so never late. Each member is emailed `reason` after
    commit, the gates stop and re-list the machine, the freed time goes to its waitlist."""
    affected = list(bookings.select_for_update().filter(machine=machine, state__in=ACTIVE_STATES))
    for booking in affected:
        booking.state = BookingState.CANCELLED
        booking.cancelled_at = now
        booking.cancelled_by = actor
        booking.cancel_reason = reason
        booking.save(update_fields=["state", "cancelled_at", "cancelled_by", "cancel_reason"])
        _announce_cancelled(booking)
        notifications.send_cancellation.delay_on_commit(booking.pk)
        # Mostly the block itself keeps the time from waiting members; around it, it is free.
        _offer_freed(machine, booking, now=now)
    return affected


def maintenance_window_create(
    *,
    machine: Machine,
    start: datetime,
    end: datetime,
    reason: str,
    actor: User | None,
    repeat_weekly_until: datetime | None = None,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> tuple[MachineEvent, list[Booking]]:
    """Schedule maintenance; bookings it overlaps are cancelled and their members told why."""
    now = now or clock.now()
    with transaction.atomic():
        submission_claim(token)
        locked = machine_lock(machine)
        window = equipment_services.maintenance_window_add(
            machine=locked,
            start=start,
            end=end,
            reason=reason,
            actor=actor,
            repeat_weekly_until=repeat_weekly_until,
        )
        horizon_end = max(repeat_weekly_until or end, end)
        cancelled: list[Booking] = []
        # The same spans the booking rules block, wall-clock recurrence and all.
        spans = machine_event_spans(window, start=max(start, now), end=horizon_end)
        for span_start, span_end in spans:
            cancelled += _cancel_for_machine_block(
                machine=locked,
                start=span_start,
                end=span_end,
                reason=_("Maintenance: %(reason)s") % {"reason": window.reason},
                actor=actor,
                now=now,
            )
    return window, cancelled


def class_session_reserve_machines(
    *,
    session: ClassSession,
    machines: list[Machine],
    actor: User | None = None,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> list[Booking]:
    """Hold `machines` for a class session: it blocks new bookings and cancels overlapping ones.

    `actor` (None: the system) must teach the class. Members whose bookings are cancelled are
    emailed why, and their gates hear it.
    """
    now = now or clock.now()
    _refuse_class_hold(session=session, actor=actor, now=now)
    with transaction.atomic():
        submission_claim(token)
        cancelled: list[Booking] = []
        for machine in machines:
            locked = machine_lock(machine)
            locked.class_sessions.add(session)
            cancelled += _cancel_for_machine_block(
                machine=locked,
                start=session.start,
                end=session.end,
                reason=_("Class on this machine: %(certification)s")
                % {"certification": session.certification.name},
                actor=actor,
                now=now,
            )
    return cancelled


def class_session_move(
    *,
    session: ClassSession,
    start: datetime,
    end: datetime,
    actor: User | None,
    token: uuid.UUID | None = None,
) -> ClassSession:
    """Move a class session and hold its machines at the new time, in one transaction: the
    bookings in the way are cancelled with it (their members told, their gates stopped), or
    nothing moves at all."""
    with transaction.atomic():
        moved = scheduling.session_move(
            session=session, start=start, end=end, actor=actor, token=token
        )
        machines = list(moved.machines.all())
        if machines:
            class_session_reserve_machines(session=moved, machines=machines, actor=actor)
    return moved


def class_session_release_machine(
    *,
    session: ClassSession,
    machine: Machine,
    actor: User | None = None,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> None:
    """Stop holding `machine` for a class session: members may book it then again."""
    _refuse_class_hold(session=session, actor=actor, now=now or clock.now())
    with transaction.atomic():
        submission_claim(token)
        machine_lock(machine).class_sessions.remove(session)


def _refuse_class_hold(*, session: ClassSession, actor: User | None, now: datetime) -> None:
    refused = rules.class_hold_refusal(
        may_teach=actor is None or selectors.user_may_hold_machines(actor, session),
        cancelled=session.is_cancelled,
        end=session.end,
        now=now,
    )
    if refused is not None:
        raise BookingRejected(refused)


def calendar_feed_for(member: Member) -> CalendarFeed:
    feed, _ = CalendarFeed.objects.get_or_create(member=member)
    return feed


def calendar_feed_reset(*, member: Member) -> CalendarFeed:
    """A new secret feed URL; the old one stops working at once."""
    with transaction.atomic():
        feed = calendar_feed_for(member)
        feed.reset()
    return feed


def machine_move(
    *,
    machine: Machine,
    location: Location,
    area: Area | None = None,
    actor: User | None,
    now: datetime | None = None,
) -> Machine:
    """Move `machine` to another location (and area there).

    Refused while it is booked ahead or held for a class to come: those members booked it at
    the old location, on that location's clock and plan; they cancel or staff cancel first.
    Nothing changes on a refusal. The gates are told who may use it now (the plans differ).
    """
    now = now or clock.now()
    if actor is not None and not actor.has_perm("equipment.manage_machines"):
        raise EquipmentError(_("Only staff who manage machines can move them."))
    if location.archived:
        raise EquipmentError(
            _("%(location)s is archived: machines move to open locations only.")
            % {"location": location}
        )
    if area is not None and area.location_id != location.pk:
        raise EquipmentError(
            _("%(area)s is not an area of %(location)s.") % {"area": area, "location": location}
        )
    with transaction.atomic():
        locked = machine_lock(machine)
        if locked.location_id != location.pk:
            booked = Booking.objects.filter(
                machine=locked, state__in=ACTIVE_STATES, end__gt=now
            ).count()
            classes = locked.class_sessions.filter(end__gt=now, cancelled_at__isnull=True).count()
            if booked or classes:
                logger.warning("Refused to move %s to %s: booked ahead", locked.slug, location.slug)
                raise EquipmentError(
                    _(
                        "%(machine)s has %(bookings)s booking(s) and %(classes)s class(es) to "
                        "come at %(here)s: cancel or finish them before moving it to %(there)s."
                    )
                    % {
                        "machine": locked.name,
                        "bookings": booked,
                        "classes": classes,
                        "here": locked.location,
                        "there": location,
                    }
                )
            if locked.required_checkout_id is not None:
                # A local check-out belongs to the old location.
                locked.required_checkout = None
        locked.location, locked.area = location, area
        locked.save(update_fields=["location", "area", "required_checkout"])
        gates().machines_changed(machines=[locked])
    machine.location, machine.area = locked.location, locked.area
    machine.required_checkout = locked.required_checkout
    return locked
