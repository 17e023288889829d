"""The machine waitlist's actions: join, leave, and offering a freed span to the first member
waiting for it (held for them until the offer's deadline); taking an offer books through
`bookings.services.wait_offer_accept`, by the same rules as any booking.

Each action is atomic and locks the machine row first, as every booking action does, so offers
and bookings on one machine run one after another and two offers never hold the same time.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import pgettext

from bookings import notifications, rules, selectors
from bookings.errors import BookingRejected
from bookings.locking import machine_lock
from bookings.models import Wait
from bookings.rules import Refusal, Verdict
from bookings.states import WaitState
from core import clock
from core.submissions import submission_claim
from core.time import add_duration
from equipment.models import Machine
from membership.models import Member, User


def offer_minutes() -> int:
    """How long an offer holds its span for the member offered it (WAITLIST_OFFER_MINUTES)."""
    return int(getattr(settings, "WAITLIST_OFFER_MINUTES", 30))


def _refusal_for(wait: Wait, machine: Machine, now: datetime) -> rules.Refused | None:
    facts = selectors.booking_facts(
        member=wait.member, machine=machine, start=wait.start, end=wait.end, now=now
    )
    return rules.booking_refusal(facts, selectors.machine_rules(machine))


def wait_join(
    *,
    member: Member,
    machine: Machine,
    start: datetime,
    end: datetime,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Wait:
    """Put `member` on the waitlist for [start, end), a span they choose (part of a booking, or
    across several): they must be able to book the machine then by every other rule, exactly as
    if it were free, and someone else must take some of it. One place per member and span."""
    now = now or clock.now()
    with transaction.atomic():
        submission_claim(token)
        locked = machine_lock(machine)
        facts = selectors.booking_facts(
            member=member, machine=locked, start=start, end=end, now=now
        )
        refused = rules.wait_refusal(facts, selectors.machine_rules(locked))
        if refused is not None:
            raise BookingRejected(refused)
        try:
            with transaction.atomic():
                return Wait.objects.create(
                    machine=locked, member=member, start=start, end=end, joined_at=now
                )
        except IntegrityError:  # the unique constraint: already waiting for this span
            raise BookingRejected(
                rules.refuse(
                    Refusal.WAIT_CLOSED, state=pgettext("waitlist state", "you are on it already")
                )
            ) from None


def _end_wait(
    *, wait: Wait, actor: User | None, state: WaitState, token: uuid.UUID | None, now: datetime
) -> Wait:
    with transaction.atomic():
        submission_claim(token)
        machine = machine_lock(wait.machine)
        locked = Wait.objects.select_for_update().select_related("member").get(pk=wait.pk)
        refused = rules.leave_refusal(
            is_owner=actor is not None and locked.member.user_id == actor.pk, state=locked.state
        )
        if refused is not None:
            raise BookingRejected(refused)
        was_offered = locked.state == WaitState.OFFERED
        locked.state, locked.ended_at = state, now
        locked.save(update_fields=["state", "ended_at"])
        if was_offered:  # the held span goes to the next member waiting for it
            waits_offer(machine=machine, start=locked.start, end=locked.end, now=now)
    return locked


def wait_leave(
    *, wait: Wait, actor: User | None, token: uuid.UUID | None = None, now: datetime | None = None
) -> Wait:
    """The member leaves the waitlist; an offer they had passes to the next member."""
    return _end_wait(
        wait=wait, actor=actor, state=WaitState.LEFT, token=token, now=now or clock.now()
    )


def wait_offer_decline(
    *, wait: Wait, actor: User | None, token: uuid.UUID | None = None, now: datetime | None = None
) -> Wait:
    """ "No thanks": the offer passes to the next member waiting for the span."""
    return _end_wait(
        wait=wait, actor=actor, state=WaitState.DECLINED, token=token, now=now or clock.now()
    )


def waits_offer(*, machine: Machine, start: datetime, end: datetime, now: datetime) -> list[Wait]:
    """Offer a freed span [start, end) to the members waiting for time it meets, first come
    first served.

    Called inside the transaction that frees the span (a cancellation, a no-show released, a
    booking finished early, an offer declined or lapsed), with `machine` locked. Each waiting
    member in order of joining is judged by the booking rules for their own span, which may be
    larger than the freed one: free for them, all of it, they are offered it, held until the
    deadline (a later member whose span meets it then sees it held and waits on); a part still
    booked, they wait on (a later freeing offers it); a member the rules refuse (a lost
    certification, a lapsed membership, a quota) is passed over and the reason kept.
    """
    offered: list[Wait] = []
    # A wait meets the freed span with its buffer too: its booking would hold the minutes after it.
    buffer = timedelta(minutes=machine.buffer_minutes)
    waiting = (
        Wait.objects.select_for_update()
        .select_related("member")
        .filter(
            machine=machine,
            state=WaitState.WAITING,
            start__lt=end,
            end__gt=add_duration(start, -buffer),
        )
        .order_by("joined_at", "id")
    )
    for wait in waiting:
        refused = _refusal_for(wait, machine, now)
        verdict = rules.offer_verdict(refused)
        if verdict is Verdict.OFFER:
            deadline = rules.offer_deadline(
                now=now,
                start=wait.start,
                offer_minutes=offer_minutes(),
                slot_minutes=machine.slot_minutes,
            )
            if deadline is None:
                verdict = Verdict.OVER
            else:
                wait.state, wait.offered_at, wait.offer_until = WaitState.OFFERED, now, deadline
                wait.save(update_fields=["state", "offered_at", "offer_until"])
                notifications.send_waitlist_offer.delay_on_commit(wait.pk)
                offered.append(wait)
        if verdict is Verdict.SKIP and refused is not None:
            # The code, not the sentence: a sentence changes with the language and its details.
            newly_refused = wait.skip_code != refused.code
            wait.skipped_at, wait.skip_code = now, refused.code
            wait.skip_reason = refused.message
            wait.save(update_fields=["skipped_at", "skip_code", "skip_reason"])
            if newly_refused:  # told once per reason, not on every span freed while it holds
                notifications.send_waitlist_passed_over.delay_on_commit(wait.pk)
        if verdict is Verdict.OVER:
            wait.state, wait.ended_at = WaitState.OVER, now
            wait.save(update_fields=["state", "ended_at"])
    return offered


def waitlist_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Lapse offers past their deadline (each span then goes to the next member waiting for it)
    and drop waits whose time has passed. Safe to run as often as you like: each step touches
    only rows still in the state it changes, under the machine's lock."""
    now = now or clock.now()
    lapsed = over = 0
    due = Wait.objects.filter(state=WaitState.OFFERED, offer_until__lte=now).values_list(
        "machine_id", flat=True
    )
    started = Wait.objects.filter(state=WaitState.WAITING, start__lte=now).values_list(
        "machine_id", flat=True
    )
    for machine in Machine.objects.filter(pk__in={*due, *started}).order_by("pk"):
        with transaction.atomic():
            locked = machine_lock(machine)
            for wait in Wait.objects.select_for_update().filter(
                machine=locked, state=WaitState.OFFERED, offer_until__lte=now
            ):
                wait.state, wait.ended_at = WaitState.LAPSED, now
                wait.save(update_fields=["state", "ended_at"])
                lapsed += 1
                waits_offer(machine=locked, start=wait.start, end=wait.end, now=now)
            # A wait whose first slot has begun can still be offered as a walk-up; after it, over.
            earliest = add_duration(now, -timedelta(minutes=locked.slot_minutes))
            over += Wait.objects.filter(
                machine=locked, state=WaitState.WAITING, start__lte=earliest
            ).update(state=WaitState.OVER, ended_at=now)
    return {"lapsed": lapsed, "over": over}
