"""The access policy's truth table: every reason code, and the grant each allowed case gets."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from access.policy import AccessFacts, Reason, decide

AT = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
BOOKING_END = AT + timedelta(hours=1)
STAFF_GRANT = timedelta(hours=2)

# A member who may use the machine right now; each row changes one or two facts.
READY = AccessFacts(
    at=AT,
    badge_known=True,
    badge_enabled=True,
    member_name="Maya Maker",
    membership_in_good_standing=True,
    plan_covers_location=True,
    waiver_signed=True,
    machine_in_service=True,
    certified=True,
    local_checkout_held=True,
    booking_end=BOOKING_END,
)


TRUTH_TABLE = [
    ({}, Reason.ALLOWED_BOOKING, BOOKING_END),
    ({"badge_known": False, "member_name": None}, Reason.UNKNOWN_BADGE, None),
    ({"badge_enabled": False}, Reason.BADGE_DISABLED, None),
    ({"membership_in_good_standing": False}, Reason.MEMBERSHIP_INACTIVE, None),
    ({"waiver_signed": False}, Reason.WAIVER_MISSING, None),
    ({"machine_in_service": False}, Reason.MACHINE_OUT_OF_SERVICE, None),
    ({"machine_in_service": False, "machine_retired": True}, Reason.MACHINE_OUT_OF_SERVICE, None),
    ({"certified": False}, Reason.NOT_CERTIFIED, None),
    ({"certified": False, "certification_lapsed": True}, Reason.CERTIFICATION_EXPIRED, None),
    ({"booking_end": None}, Reason.NO_BOOKING_NOW, None),
    ({"booking_end": AT}, Reason.NO_BOOKING_NOW, None),
    ({"booking_end": None, "is_instructor": True}, Reason.ALLOWED_INSTRUCTOR, AT + STAFF_GRANT),
    ({"booking_end": None, "is_maintainer": True}, Reason.ALLOWED_MAINTAINER, AT + STAFF_GRANT),
    # A maintainer repairs an out-of-service machine; nobody powers a retired one.
    (
        {"machine_in_service": False, "is_maintainer": True},
        Reason.ALLOWED_MAINTAINER,
        AT + STAFF_GRANT,
    ),
    (
        {"machine_in_service": False, "machine_retired": True, "is_maintainer": True},
        Reason.MACHINE_OUT_OF_SERVICE,
        None,
    ),
    ({"machine_in_service": False, "is_instructor": True}, Reason.MACHINE_OUT_OF_SERVICE, None),
    # Privileges never skip the membership, waiver or badge checks.
    (
        {"membership_in_good_standing": False, "is_maintainer": True},
        Reason.MEMBERSHIP_INACTIVE,
        None,
    ),
    ({"waiver_signed": False, "is_instructor": True}, Reason.WAIVER_MISSING, None),
    ({"badge_enabled": False, "is_instructor": True}, Reason.BADGE_DISABLED, None),
    # ... nor the certification chain: a maintainer or instructor is certified like anyone.
    ({"certified": False, "is_maintainer": True, "booking_end": None}, Reason.NOT_CERTIFIED, None),
    ({"certified": False, "is_instructor": True, "booking_end": None}, Reason.NOT_CERTIFIED, None),
    # An emergency stop locks everyone out, maintainers included, until staff clear it.
    ({"machine_emergency_stopped": True}, Reason.EMERGENCY_STOPPED, None),
    ({"machine_emergency_stopped": True, "is_maintainer": True}, Reason.EMERGENCY_STOPPED, None),
    # Another member's running session is never taken over, by a maintainer either.
    ({"machine_in_use_by_another": True}, Reason.MACHINE_IN_USE, None),
    ({"machine_in_use_by_another": True, "is_maintainer": True}, Reason.MACHINE_IN_USE, None),
    # A plan limited to other locations opens nothing here, for maintainers and instructors too;
    # it is checked right after the membership itself, before the waiver.
    ({"plan_covers_location": False}, Reason.PLAN_EXCLUDES_LOCATION, None),
    (
        {"plan_covers_location": False, "is_maintainer": True, "booking_end": None},
        Reason.PLAN_EXCLUDES_LOCATION,
        None,
    ),
    ({"plan_covers_location": False, "is_instructor": True}, Reason.PLAN_EXCLUDES_LOCATION, None),
    (
        {"plan_covers_location": False, "membership_in_good_standing": False},
        Reason.MEMBERSHIP_INACTIVE,
        None,
    ),
    (
        {"plan_covers_location": False, "waiver_signed": False},
        Reason.PLAN_EXCLUDES_LOCATION,
        None,
    ),
    # A local check-out counts on top of the chain-wide certification, for everyone; a missing
    # certification is reported first, a running session or a missing booking after it.
    ({"local_checkout_held": False}, Reason.LOCAL_CHECKOUT_MISSING, None),
    (
        {"local_checkout_held": False, "is_maintainer": True, "booking_end": None},
        Reason.LOCAL_CHECKOUT_MISSING,
        None,
    ),
    (
        {"local_checkout_held": False, "is_instructor": True, "booking_end": None},
        Reason.LOCAL_CHECKOUT_MISSING,
        None,
    ),
    ({"local_checkout_held": False, "certified": False}, Reason.NOT_CERTIFIED, None),
    (
        {"local_checkout_held": False, "machine_in_use_by_another": True},
        Reason.LOCAL_CHECKOUT_MISSING,
        None,
    ),
    ({"local_checkout_held": False, "booking_end": None}, Reason.LOCAL_CHECKOUT_MISSING, None),
    (
        {"local_checkout_held": False, "machine_emergency_stopped": True},
        Reason.EMERGENCY_STOPPED,
        None,
    ),
    # The first failing condition is the one reported.
    (
        {"waiver_signed": False, "certified": False, "booking_end": None},
        Reason.WAIVER_MISSING,
        None,
    ),
]


@pytest.mark.parametrize(("changes", "reason", "grant_end"), TRUTH_TABLE)
def test_truth_table(changes, reason, grant_end):
    decision = decide(replace(READY, **changes), staff_grant=STAFF_GRANT)
    assert decision.reason is reason
    assert decision.allowed is reason.allowed
    assert decision.grant_end == grant_end
    # The gate greets (or turns away) a known badge's member by name; an unknown badge has none.
    known = changes.get("badge_known", True)
    assert decision.member_name == ("Maya Maker" if known else None)


def test_every_reason_is_covered_and_has_a_sentence():
    """Each reason code appears in the truth table and reads as a sentence."""
    assert {reason for _, reason, _ in TRUTH_TABLE} == set(Reason)
    for reason in Reason:
        assert reason.sentence.endswith(".")


def test_refusals_never_carry_a_grant():
    for field in (
        "badge_enabled",
        "membership_in_good_standing",
        "plan_covers_location",
        "waiver_signed",
        "certified",
        "local_checkout_held",
    ):
        decision = decide(replace(READY, **{field: False}), staff_grant=STAFF_GRANT)
        assert not decision.allowed and decision.grant_end is None


def test_facts_fail_closed():
    """A fact nobody gathered refuses: a new facts object allows nothing."""
    known = AccessFacts(at=AT, badge_known=True, badge_enabled=True)
    assert not known.plan_covers_location and not known.local_checkout_held
    assert decide(known, staff_grant=STAFF_GRANT).reason is Reason.MEMBERSHIP_INACTIVE


def test_the_new_reasons_travel_as_their_codes():
    assert Reason.PLAN_EXCLUDES_LOCATION.value == "plan_excludes_location"
    assert Reason.LOCAL_CHECKOUT_MISSING.value == "local_checkout_missing"
    assert "does not include this location" in Reason.PLAN_EXCLUDES_LOCATION.sentence
    assert "check-out" in Reason.LOCAL_CHECKOUT_MISSING.sentence
    assert not Reason.PLAN_EXCLUDES_LOCATION.allowed
    assert not Reason.LOCAL_CHECKOUT_MISSING.allowed


# A day pass stands in for the membership and the plan's locations, never for the rest; a grant
# on the pass alone ends at the pass's midnight (`standing_until`, which the allow-list cuts at).
MIDNIGHT = AT + timedelta(minutes=30)
LATER = AT + timedelta(hours=5)
VISITOR = {"membership_in_good_standing": False, "plan_covers_location": False}


@pytest.mark.parametrize(
    ("changes", "reason", "grant_end", "standing_until"),
    [
        ({**VISITOR, "day_pass_until": MIDNIGHT}, Reason.ALLOWED_BOOKING, MIDNIGHT, MIDNIGHT),
        ({**VISITOR, "day_pass_until": LATER}, Reason.ALLOWED_BOOKING, BOOKING_END, LATER),
        ({**VISITOR, "day_pass_until": AT}, Reason.MEMBERSHIP_INACTIVE, None, None),  # just ended
        ({**VISITOR, "day_pass_until": None}, Reason.MEMBERSHIP_INACTIVE, None, None),
        (
            {"plan_covers_location": False, "day_pass_until": MIDNIGHT},
            Reason.ALLOWED_BOOKING,
            MIDNIGHT,
            MIDNIGHT,
        ),
        ({"plan_covers_location": False}, Reason.PLAN_EXCLUDES_LOCATION, None, None),
        (
            {**VISITOR, "day_pass_until": MIDNIGHT, "certified": False},
            Reason.NOT_CERTIFIED,
            None,
            None,
        ),
        (
            {**VISITOR, "day_pass_until": MIDNIGHT, "waiver_signed": False},
            Reason.WAIVER_MISSING,
            None,
            None,
        ),
        (
            {**VISITOR, "day_pass_until": MIDNIGHT, "booking_end": None},
            Reason.NO_BOOKING_NOW,
            None,
            None,
        ),
        (
            {**VISITOR, "day_pass_until": MIDNIGHT, "booking_end": None, "is_instructor": True},
            Reason.ALLOWED_INSTRUCTOR,
            MIDNIGHT,
            MIDNIGHT,
        ),
        # A member in good standing is not cut at midnight by a pass they also hold.
        ({"day_pass_until": MIDNIGHT}, Reason.ALLOWED_BOOKING, BOOKING_END, None),
    ],
)
def test_a_day_pass_in_the_decision(changes, reason, grant_end, standing_until):
    decision = decide(replace(READY, **changes), staff_grant=STAFF_GRANT)
    assert (decision.reason, decision.grant_end, decision.standing_until) == (
        reason,
        grant_end,
        standing_until,
    )
