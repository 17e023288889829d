"""Gathers the facts the access policy decides on, from every app's selectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from access.policy import AccessFacts
from bookings.models import Booking
from bookings.selectors import booking_covering
from equipment.models import Machine, MachineState
from gate_agent.badges import InvalidBadgeUID, normalize_badge_uid
from membership import selectors as membership_selectors
from membership.models import Badge, Member
from training.models import MemberCertification
from training.selectors import member_holds_certification


@dataclass(frozen=True)
class GatheredFacts:
    facts: AccessFacts
    member: Member | None
    booking: Booking | None


def _badge(uid: str) -> Badge | None:
    """The enabled badge with this UID, else the most recent disabled one, else None."""
    try:
        canonical = normalize_badge_uid(uid)
    except InvalidBadgeUID:
        return None
    return (
        Badge.objects.filter(uid=canonical)
        .select_related("member__user", "member__membership")
        .order_by("-enabled", "-issued_at")
        .first()
    )


def gather_facts(*, badge_uid: str, machine: Machine, at: datetime) -> GatheredFacts:
    badge = _badge(badge_uid)
    if badge is None:
        return GatheredFacts(AccessFacts(at=at), None, None)
    member = badge.member
    user = member.user
    certification = machine.required_certification
    if certification is None:
        certified, lapsed = True, False
    else:
        certified = member_holds_certification(member=member, certification=certification, at=at)
        lapsed = (
            not certified
            and MemberCertification.objects.filter(
                member=member, certification=certification, granted_at__lte=at
            ).exists()
        )
    booking = booking_covering(member=member, machine=machine, at=at)
    facts = AccessFacts(
        at=at,
        badge_known=True,
        badge_enabled=badge.enabled,
        member_name=member.display_name,
        membership_in_good_standing=membership_selectors.membership_in_good_standing(
            getattr(member, "membership", None), at=at
        ),
        waiver_signed=membership_selectors.member_signed_current_waiver(member),
        machine_in_service=machine.state == MachineState.IN_SERVICE,
        machine_retired=machine.state == MachineState.RETIRED,
        certified=certified,
        certification_lapsed=lapsed,
        is_instructor=certification is not None
        and certification.instructors.filter(pk=user.pk).exists(),
        is_maintainer=machine.maintainers.filter(pk=user.pk).exists(),
        booking_end=booking.end if booking else None,
    )
    return GatheredFacts(facts, member, booking)
