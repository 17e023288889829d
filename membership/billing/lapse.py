"""Grace periods that ran out: record the lapse once and tell the gate.

The access check needs nothing from here (the selector compares the paid-through date, grace
included, with the time of the scan). But no event happens at the moment grace ends, so a
periodic run of `manage.py lapse_memberships` records that moment and sends the gate hook that
switches a running machine off.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core import clock
from core.gates import gates
from membership import selectors
from membership.models import ChangeCause, Membership, MembershipStatus
from membership.services import membership_set_status


def memberships_lapse_due(*, now: datetime) -> list[int]:
    """Memberships whose paid-through date plus grace has passed and whose lapse is unrecorded."""
    cutoff = now - selectors.grace_period()
    return list(
        Membership.objects.filter(
            status__in=[MembershipStatus.ACTIVE, MembershipStatus.PAST_DUE],
            current_period_end__lte=cutoff,
        )
        .filter(Q(lapse_recorded_for__isnull=True) | ~Q(lapse_recorded_for=F("current_period_end")))
        .values_list("pk", flat=True)
    )


def membership_lapse(*, membership_id: int, now: datetime | None = None) -> bool:
    """Record that the grace period ran out (cause: system); True if this call recorded it.

    Idempotent: the lapse of one paid-through date is recorded once; a payment moves the date on,
    so the next lapse is recorded again.
    """
    now = now or clock.now()
    with transaction.atomic():
        locked = (
            Membership.objects.select_for_update().select_related("member").get(pk=membership_id)
        )
        end = locked.current_period_end
        if (
            end is None
            or locked.status not in {MembershipStatus.ACTIVE, MembershipStatus.PAST_DUE}
            or selectors.membership_in_good_standing(locked, at=now)
            or locked.lapse_recorded_for == end
        ):
            return False
        member = locked.member
        # Did the member have machine access just before the grace ended?
        had_access = selectors.member_may_use_machines(
            member, at=selectors.grace_ends(end) - timedelta(microseconds=1)
        )
        membership_set_status(
            membership=locked,
            status=MembershipStatus.PAST_DUE,
            reason=f"Grace period ended: not paid since {timezone.localtime(end):%Y-%m-%d %H:%M}; "
            "machine access stopped",
            cause=ChangeCause.SYSTEM,
        )
        Membership.objects.filter(pk=locked.pk).update(lapse_recorded_for=end)
        if had_access:
            gates().member_lost_access(
                member=member,
                reason="access_lost",
                message="Your membership lapsed: pay it to use machines again.",
            )
    return True


def memberships_lapse(*, now: datetime | None = None) -> int:
    """Record every due lapse; returns how many were recorded."""
    now = now or clock.now()
    return sum(membership_lapse(membership_id=pk, now=now) for pk in memberships_lapse_due(now=now))
