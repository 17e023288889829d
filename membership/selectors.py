"""Read-only questions about members: who is this, are they in good standing, what is missing."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet, Subquery

from core import clock
from gate_agent.badges import InvalidBadgeUID, normalize_badge_uid
from membership.models import (
    Badge,
    Member,
    Membership,
    MembershipStatus,
    Plan,
    Waiver,
    WaiverSignature,
)
from staffing.selectors import EVERYWHERE, Scope


def grace_period() -> timedelta:
    return timedelta(days=getattr(settings, "MEMBERSHIP_GRACE_DAYS", 3))


def grace_ends(paid_through: datetime) -> datetime:
    """When a membership paid through `paid_through` stops opening machines: after the grace
    period. Good standing (the access decision, readiness, billing) and the lapse job read it here."""
    return paid_through + grace_period()


def membership_in_good_standing(membership: Membership | None, *, at: datetime) -> bool:
    """Active and paid up, or past due but still inside the grace period.

    Active with no period end is a membership staff set Active by hand (comped: payments and
    Stripe always set an end); it counts as paid until someone changes its state, and the staff
    member page says so.
    """
    if membership is None:
        return False
    end = membership.current_period_end
    if membership.status == MembershipStatus.ACTIVE:
        return end is None or at < grace_ends(end)
    if membership.status == MembershipStatus.PAST_DUE:
        return end is not None and at < grace_ends(end)
    return False


def _waivers_newest_first() -> QuerySet[Waiver]:
    return Waiver.objects.order_by("-version")


def waiver_current() -> Waiver | None:
    return _waivers_newest_first().first()


def members_signed_current_waiver(member_ids: Iterable[int]) -> set[int]:
    """Which of `member_ids` signed the current waiver (one query for any number of members)."""
    current = Subquery(_waivers_newest_first().values("pk")[:1])
    return set(
        WaiverSignature.objects.filter(waiver=current, member_id__in=member_ids).values_list(
            "member_id", flat=True
        )
    )


def members_yet_to_sign_current_waiver() -> QuerySet[Member]:
    """Members whose membership is active or past due (they may use machines) who have not
    signed the current waiver: they must before their next machine use."""
    current = Subquery(_waivers_newest_first().values("pk")[:1])
    return Member.objects.filter(
        membership__status__in=(MembershipStatus.ACTIVE, MembershipStatus.PAST_DUE)
    ).exclude(waiver_signatures__waiver=current)


def member_signed_current_waiver(member: Member) -> bool:
    return member.pk in members_signed_current_waiver([member.pk])


def member_enabled_badge(member: Member) -> Badge | None:
    return member.badges.filter(enabled=True).first()


# The membership-level conditions of machine use, by name, in the order a member fixes them.
PAYMENT, WAIVER, BADGE = "payment", "waiver", "badge"


def member_machine_blockers(member: Member, *, at: datetime | None = None) -> list[str]:
    """Which membership-level conditions of machine use `member` does not meet: PAYMENT (paid up
    or inside the grace period), WAIVER (the current one signed), BADGE (one enabled)."""
    membership = Membership.objects.select_related("plan").filter(member=member).first()
    if membership is not None:
        # Read fresh here (inside a booking's transaction, say), and kept on the member: the
        # plan's locations and the grid's outlook read this one instead of asking again.
        member.membership = membership
    blockers = []
    if not membership_in_good_standing(membership, at=at or clock.now()):
        blockers.append(PAYMENT)
    if not member_signed_current_waiver(member):
        blockers.append(WAIVER)
    if not member.badges.filter(enabled=True).exists():
        blockers.append(BADGE)
    return blockers


def member_may_use_machines(member: Member, *, at: datetime | None = None) -> bool:
    """The membership-level conditions of machine use: paid, waiver signed, a badge enabled."""
    return not member_machine_blockers(member, at=at)


def member_by_badge(uid: str) -> Member | None:
    """The member holding the enabled badge `uid` in any reader format, or None."""
    try:
        canonical = normalize_badge_uid(uid)
    except InvalidBadgeUID:
        return None
    badge = Badge.objects.filter(uid=canonical, enabled=True).select_related("member__user").first()
    return badge.member if badge else None


def member_search(query: str) -> QuerySet[Member]:
    """Members matching a name, an email or a badge UID (enabled or not) in any reader format."""
    members = Member.objects.select_related("user", "membership")
    query = query.strip()
    if not query:
        return members.none()
    match = Q()
    for word in query.split():
        match &= (
            Q(user__first_name__icontains=word)
            | Q(user__last_name__icontains=word)
            | Q(user__email__icontains=word)
        )
    with contextlib.suppress(InvalidBadgeUID):
        match |= Q(badges__uid=normalize_badge_uid(query))
    return members.filter(match).distinct()


@dataclass(frozen=True)
class MemberSearchResults:
    """The first matches of a search, and how many there are in all."""

    members: list[Member]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.members)


def member_search_results(
    query: str, *, scope: Scope = EVERYWHERE, limit: int = 50
) -> MemberSearchResults:
    """The front desk's search, among the members of the locations in `scope` (by home)."""
    matches = scope.filter(member_search(query), "home_location")
    members = list(matches[:limit])
    # Only a full page can hide more matches, so the usual search stays one query.
    total = matches.count() if len(members) == limit else len(members)
    return MemberSearchResults(members, total)


def plan_opens_location(
    plan: Plan | None, location_id: int | None, *, named: Iterable[int] = ()
) -> bool:
    """Whether `plan` opens the location `location_id`: a plan for all locations opens every one,
    a limited plan only those it names (`named`: its location ids, from `plans_named_locations`).
    No plan opens nothing."""
    if plan is None:
        return False
    return plan.all_locations or location_id in set(named)


def plans_named_locations(plan_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """The location ids each plan of `plan_ids` names (one query; a plan naming none is absent)."""
    named: dict[int, set[int]] = {}
    for plan_id, location_id in Plan.locations.through.objects.filter(
        plan_id__in=set(plan_ids)
    ).values_list("plan_id", "location_id"):
        named.setdefault(plan_id, set()).add(location_id)
    return {plan_id: frozenset(ids) for plan_id, ids in named.items()}


def member_plan_opens(member: Member, location_id: int | None) -> bool:
    """Whether the member's plan opens the location (whatever the membership's state)."""
    membership = getattr(member, "membership", None)
    plan = membership.plan if membership is not None else None
    if plan is None:
        return False
    return plan_opens_location(
        plan, location_id, named=plans_named_locations([plan.pk]).get(plan.pk, ())
    )
