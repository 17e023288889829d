"""Gathers the facts the access policy decides on, from every app's selectors.

Scans are gathered in batches with a fixed number of queries, however many scans there are: a
bridge under load answers a burst of badge requests for the price of one, and an allow-list
checks all of a machine's booking windows at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from access.policy import AccessFacts
from bookings.models import Booking
from bookings.selectors import bookings_covering
from equipment.daypasses.rules import pass_open_until
from equipment.daypasses.selectors import days_around, pass_covers_held, pass_machines
from equipment.models import Machine, MachineState
from gate_agent.badges import InvalidBadgeUID, normalize_badge_uid
from membership import selectors as membership_selectors
from membership.models import Badge, Member
from staffing.selectors import teaching_scopes
from training.models import Certification
from training.selectors import (
    certification_grants_held,
    checkouts_held,
    grant_valid_at,
    held_at,
)

if TYPE_CHECKING:
    from access.models import GateDevice


@dataclass(frozen=True)
class Scan:
    """A badge presented at a machine (through `device`, for gate scans) at an instant."""

    badge_uid: str
    machine: Machine
    at: datetime
    device: GateDevice | None = None
    # The gate request's nonce, for scans that came through the bridge.
    request_nonce: str | None = None
    # A scan at the machine now is refused while another member's session runs there; an
    # allow-list window ahead is not (the gate itself never lets one session take over another).
    now: bool = True


@dataclass(frozen=True)
class GatheredFacts:
    facts: AccessFacts
    member: Member | None
    booking: Booking | None


def _canonical(uid: str) -> str | None:
    try:
        return normalize_badge_uid(uid)
    except InvalidBadgeUID:
        return None


def _badges(uids: set[str]) -> dict[str, Badge]:
    """By canonical UID: the enabled badge, else the most recently issued disabled one."""
    found: dict[str, Badge] = {}
    for badge in (
        Badge.objects.filter(uid__in=uids)
        .select_related("member__user", "member__membership__plan")
        .order_by("-enabled", "-issued_at")
    ):
        found.setdefault(badge.uid, badge)
    return found


def _pairs(through, left: str, lefts: set[int], users: set[int]) -> set[tuple[int, int]]:
    """(left id, user id) rows of a many-to-many table to users, among those given."""
    return set(
        through.objects.filter(**{f"{left}__in": lefts, "user_id__in": users}).values_list(
            left, "user_id"
        )
    )


def _chains(certification_ids: set[int]) -> dict[int, frozenset[int]]:
    """Each certification with all its prerequisites, transitively (one query)."""
    needs: dict[int, set[int]] = {}
    for (
        certification_id,
        prerequisite_id,
    ) in Certification.prerequisites.through.objects.values_list(
        "from_certification_id", "to_certification_id"
    ):
        needs.setdefault(certification_id, set()).add(prerequisite_id)
    chains = {}
    for root in certification_ids:
        chain, todo = {root}, [root]
        while todo:
            for prerequisite in needs.get(todo.pop(), ()):
                if prerequisite not in chain:
                    chain.add(prerequisite)
                    todo.append(prerequisite)
        chains[root] = frozenset(chain)
    return chains


def _running_sessions(machine_ids: set[int]) -> dict[int, list[tuple[int | None, datetime]]]:
    """(member id, grant end) of the sessions gates report running, by machine (one query)."""
    from access.models import UsageSession

    running: dict[int, list[tuple[int | None, datetime]]] = {}
    for machine_id, member_id, grant_end in UsageSession.objects.filter(
        machine_id__in=machine_ids, ended_at__isnull=True, grant_end__isnull=False
    ).values_list("machine_id", "member_id", "grant_end"):
        running.setdefault(machine_id, []).append((member_id, grant_end))
    return running


def _emergency_stopped(machine_ids: set[int]) -> set[int]:
    from access.models import EmergencyStop

    return set(
        EmergencyStop.objects.filter(
            machine_id__in=machine_ids, cleared_at__isnull=True
        ).values_list("machine_id", flat=True)
    )


def _held_chain(grants, member_id: int, chain: frozenset[int], at: datetime) -> tuple[bool, bool]:
    """(certified, lapsed): every certification of the chain valid at `at`; else whether one
    that is missing now was held once (expired or revoked), which reads differently to the
    member than one never taken."""
    held = {cid: grants.get((member_id, cid), []) for cid in chain}
    missing = [gs for gs in held.values() if not any(grant_valid_at(g, at=at) for g in gs)]
    lapsed = any(g.granted_at <= at for gs in missing for g in gs)
    return not missing, lapsed


def _day_passes(known, standing: list[bool]):
    """The day passes of the members who are not members in good standing everywhere they
    scanned (none asked about otherwise), and the scanned machines as the pass rules read them;
    five queries at most, none when every scan has a member's standing."""
    lacking = [(scan, badge) for (scan, badge), ok in zip(known, standing, strict=True) if not ok]
    if not lacking:
        return [], {}
    covers = pass_covers_held(
        holder_ids={badge.member_id for _, badge in lacking},
        days=days_around(scan.at for scan, _ in lacking),
    )
    if not covers:
        return [], {}
    return covers, pass_machines({scan.machine.pk: scan.machine for scan, _ in lacking}.values())


def gather_facts_many(scans: Sequence[Scan]) -> list[GatheredFacts]:
    """The facts of each scan, in order, in twelve queries whatever the number of scans (and up
    to five more for the day passes of scans by someone who is not a member in good standing)."""
    canonical = [_canonical(scan.badge_uid) for scan in scans]
    badges = _badges({uid for uid in canonical if uid is not None})
    badge_of = [badges.get(uid) if uid is not None else None for uid in canonical]
    known = [(scan, badge) for scan, badge in zip(scans, badge_of, strict=True) if badge]
    member_ids = {badge.member_id for _, badge in known}
    user_ids = {badge.member.user_id for _, badge in known}
    machine_ids = {scan.machine.pk for scan, _ in known}
    certification_ids = {
        scan.machine.required_certification_id
        for scan, _ in known
        if scan.machine.required_certification_id is not None
    }
    chains = _chains(certification_ids) if certification_ids else {}
    grants = certification_grants_held(
        member_ids=member_ids, certification_ids=set().union(*chains.values())
    )
    stopped = _emergency_stopped(machine_ids) if machine_ids else set()
    running = _running_sessions(machine_ids) if machine_ids else {}
    signed = membership_selectors.members_signed_current_waiver(member_ids)
    instructors = _pairs(
        Certification.instructors.through, "certification_id", certification_ids, user_ids
    )
    maintainers = _pairs(Machine.maintainers.through, "machine_id", machine_ids, user_ids)
    teachers = {user_id for _, user_id in instructors}
    teaches_at = teaching_scopes(b.member.user for _, b in known if b.member.user_id in teachers)
    memberships = [getattr(badge.member, "membership", None) for _, badge in known]
    named_locations = membership_selectors.plans_named_locations(
        {m.plan_id for m in memberships if m is not None and not m.plan.all_locations}
    )
    checkout_ids = {
        scan.machine.required_checkout_id
        for scan, _ in known
        if scan.machine.required_checkout_id is not None
    }
    checkouts = (
        checkouts_held(member_ids=member_ids, checkout_ids=checkout_ids) if checkout_ids else {}
    )
    covering = iter(
        bookings_covering([(badge.member_id, scan.machine.pk, scan.at) for scan, badge in known])
    )
    in_good_standing = [
        membership_selectors.membership_in_good_standing(m, at=scan.at)
        for (scan, _), m in zip(known, memberships, strict=True)
    ]
    plan_covers = [
        membership_selectors.plan_opens_location(
            m.plan if m is not None else None,
            scan.machine.location_id,
            named=named_locations.get(m.plan_id, ()) if m is not None else (),
        )
        for (scan, _), m in zip(known, memberships, strict=True)
    ]
    pass_covers, machines_for_passes = _day_passes(
        known,
        [paid and opens for paid, opens in zip(in_good_standing, plan_covers, strict=True)],
    )
    standing_of, plan_covers_of = iter(in_good_standing), iter(plan_covers)

    gathered = []
    for scan, badge in zip(scans, badge_of, strict=True):
        if badge is None:
            gathered.append(GatheredFacts(AccessFacts(at=scan.at), None, None))
            continue
        member, machine, at = badge.member, scan.machine, scan.at
        certification_id = machine.required_certification_id
        if certification_id is None:
            certified, lapsed = True, False
        else:
            certified, lapsed = _held_chain(grants, member.pk, chains[certification_id], at)
        booking = next(covering)
        checkout_id = machine.required_checkout_id
        pass_machine = machines_for_passes.get(machine.pk)
        facts = AccessFacts(
            at=at,
            badge_known=True,
            badge_enabled=badge.enabled,
            member_name=member.display_name,
            membership_in_good_standing=next(standing_of),
            plan_covers_location=next(plan_covers_of),
            waiver_signed=member.pk in signed,
            machine_in_service=machine.state == MachineState.IN_SERVICE,
            machine_retired=machine.state == MachineState.RETIRED,
            machine_emergency_stopped=machine.pk in stopped,
            machine_in_use_by_another=scan.now
            and any(
                other != member.pk and grant_end > at
                for other, grant_end in running.get(machine.pk, ())
            ),
            certified=certified,
            certification_lapsed=lapsed,
            local_checkout_held=checkout_id is None
            or held_at(checkouts.get((member.pk, checkout_id), ()), at=at),
            # An instructor of the machine's certification, where they teach.
            is_instructor=(certification_id, member.user_id) in instructors
            and teaches_at[member.user_id].includes(machine.location_id),
            is_maintainer=(machine.pk, member.user_id) in maintainers,
            booking_end=booking.end if booking else None,
            day_pass_until=pass_open_until(
                pass_covers, holder_id=member.pk, machine=pass_machine, at=at
            )
            if pass_machine is not None
            else None,
        )
        gathered.append(GatheredFacts(facts, member, booking))
    return gathered
