"""The access decision as a pure function over a small facts object. No Django here.

Every caller (the MQTT bridge, the staff web check, the offline allow-list) reaches this through
`access.services.access_decide`, which gathers the facts and writes the access log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Reason(StrEnum):
    """Why a scan was allowed or refused; the value travels on the wire as the reason code."""

    UNKNOWN_BADGE = "unknown_badge"
    BADGE_DISABLED = "badge_disabled"
    MEMBERSHIP_INACTIVE = "membership_inactive"
    PLAN_EXCLUDES_LOCATION = "plan_excludes_location"
    WAIVER_MISSING = "waiver_missing"
    MACHINE_OUT_OF_SERVICE = "machine_out_of_service"
    EMERGENCY_STOPPED = "emergency_stopped"
    MACHINE_IN_USE = "machine_in_use"
    NOT_CERTIFIED = "not_certified"
    CERTIFICATION_EXPIRED = "certification_expired"
    LOCAL_CHECKOUT_MISSING = "local_checkout_missing"
    NO_BOOKING_NOW = "no_booking_now"
    ALLOWED_BOOKING = "allowed_booking"
    ALLOWED_INSTRUCTOR = "allowed_instructor"
    ALLOWED_MAINTAINER = "allowed_maintainer"

    @property
    def allowed(self) -> bool:
        return self in ALLOWING

    @property
    def sentence(self) -> str:
        return SENTENCES[self]


def gettext_noop(sentence: str) -> str:
    """Marks a sentence for the translation catalogues (makemessages knows the name) and leaves
    it as it is: the decision stays pure and English on the wire; `access.sentences` translates
    it where a person reads it."""
    return sentence


ALLOWING = frozenset({Reason.ALLOWED_BOOKING, Reason.ALLOWED_INSTRUCTOR, Reason.ALLOWED_MAINTAINER})

SENTENCES = {
    Reason.UNKNOWN_BADGE: gettext_noop("This badge is not registered. Ask the front desk."),
    Reason.BADGE_DISABLED: gettext_noop(
        "This badge has been disabled. Ask the front desk for a new one."
    ),
    Reason.MEMBERSHIP_INACTIVE: gettext_noop(
        "Your membership is not active. Pay your membership to use machines."
    ),
    Reason.PLAN_EXCLUDES_LOCATION: gettext_noop(
        "Your plan does not include this location. Ask the front desk "
        "about a plan for all locations."
    ),
    Reason.WAIVER_MISSING: gettext_noop("Sign the current safety waiver on the website first."),
    Reason.MACHINE_OUT_OF_SERVICE: gettext_noop("This machine is out of service."),
    Reason.EMERGENCY_STOPPED: gettext_noop(
        "Emergency stop: the machine is locked until staff clear it."
    ),
    Reason.MACHINE_IN_USE: gettext_noop(
        "Another member's session is running on this machine until it ends."
    ),
    Reason.NOT_CERTIFIED: gettext_noop(
        "You are not certified on this machine. Take its safety class first."
    ),
    Reason.CERTIFICATION_EXPIRED: gettext_noop(
        "Your certification for this machine has expired or was revoked."
    ),
    Reason.LOCAL_CHECKOUT_MISSING: gettext_noop(
        "This machine needs a check-out by this location's staff, "
        "on top of your certification. Ask the staff here."
    ),
    Reason.NO_BOOKING_NOW: gettext_noop(
        "You have no booking on this machine right now. Book it online."
    ),
    Reason.ALLOWED_BOOKING: gettext_noop("Welcome! The machine is on until your booking ends."),
    Reason.ALLOWED_INSTRUCTOR: gettext_noop("Instructor access: the machine is on (logged)."),
    Reason.ALLOWED_MAINTAINER: gettext_noop("Maintainer access: the machine is on (logged)."),
}


@dataclass(frozen=True)
class AccessFacts:
    """What the database knows about one badge at one machine at one instant."""

    at: datetime
    badge_known: bool = False
    badge_enabled: bool = False
    member_name: str | None = None
    membership_in_good_standing: bool = False
    # The member's plan opens the machine's location (all locations, or this one by name).
    plan_covers_location: bool = False
    waiver_signed: bool = False
    machine_in_service: bool = False
    machine_retired: bool = False
    machine_emergency_stopped: bool = False
    # Another member's session the gate reported running, whose grant has not ended.
    machine_in_use_by_another: bool = False
    certified: bool = False
    certification_lapsed: bool = False
    # The machine needs no local check-out, or the member holds the one it names.
    local_checkout_held: bool = False
    is_instructor: bool = False
    is_maintainer: bool = False
    booking_end: datetime | None = None
    # A paid day pass of the member opens this machine at `at`: the local midnight its day ends
    # (equipment.daypasses). It stands in for the membership and the plan's locations, never for
    # the certification, the waiver or the booking.
    day_pass_until: datetime | None = None


@dataclass(frozen=True)
class Decision:
    reason: Reason
    grant_end: datetime | None = None
    member_name: str | None = None
    # Allowed on a day pass alone: no grant runs past this (the end of the pass's day).
    standing_until: datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.reason.allowed

    @property
    def message(self) -> str:
        return self.reason.sentence


def decide(facts: AccessFacts, *, staff_grant: timedelta) -> Decision:
    """Allowed only when every condition holds; the first failing one is the reason.

    Instructors of the machine's certification and its maintainers need no booking and get a
    grant of `staff_grant`; maintainers may also power an out-of-service (not retired) machine,
    since repairing it is why they are there. Like anyone else they need a plan that includes
    the machine's location, the machine's whole certification chain and its local check-out, and
    the current waiver, and they never take over another member's running session. Nobody
    powers an emergency-stopped machine until staff clear the stop.

    A day pass that opens the machine now stands in for a membership in good standing whose
    plan includes the location; every other condition holds for its holder as for anyone, and
    a grant on the pass alone ends with the pass's day at the latest.
    """
    name = facts.member_name
    member_standing = facts.membership_in_good_standing and facts.plan_covers_location
    until = facts.day_pass_until
    by_pass = not member_standing and until is not None and until > facts.at
    standing_until = until if by_pass else None

    def refuse(reason: Reason) -> Decision:
        return Decision(reason, None, name)

    def allow(reason: Reason, grant_end: datetime) -> Decision:
        if standing_until is not None:
            grant_end = min(grant_end, standing_until)
        return Decision(reason, grant_end, name, standing_until)

    if not facts.badge_known:
        return Decision(Reason.UNKNOWN_BADGE)
    if not facts.badge_enabled:
        return refuse(Reason.BADGE_DISABLED)
    if not facts.membership_in_good_standing and not by_pass:
        return refuse(Reason.MEMBERSHIP_INACTIVE)
    if not facts.plan_covers_location and not by_pass:
        return refuse(Reason.PLAN_EXCLUDES_LOCATION)
    if not facts.waiver_signed:
        return refuse(Reason.WAIVER_MISSING)
    if facts.machine_emergency_stopped:
        return refuse(Reason.EMERGENCY_STOPPED)
    if facts.machine_retired:
        return refuse(Reason.MACHINE_OUT_OF_SERVICE)
    if not facts.certified:
        return refuse(
            Reason.CERTIFICATION_EXPIRED if facts.certification_lapsed else Reason.NOT_CERTIFIED
        )
    if not facts.local_checkout_held:
        return refuse(Reason.LOCAL_CHECKOUT_MISSING)
    if facts.machine_in_use_by_another:
        return refuse(Reason.MACHINE_IN_USE)
    if facts.is_maintainer:
        return allow(Reason.ALLOWED_MAINTAINER, facts.at + staff_grant)
    if not facts.machine_in_service:
        return refuse(Reason.MACHINE_OUT_OF_SERVICE)
    if facts.is_instructor:
        return allow(Reason.ALLOWED_INSTRUCTOR, facts.at + staff_grant)
    if facts.booking_end is None or facts.booking_end <= facts.at:
        return refuse(Reason.NO_BOOKING_NOW)
    return allow(Reason.ALLOWED_BOOKING, facts.booking_end)
