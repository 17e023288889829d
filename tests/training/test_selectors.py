"""Who is certified when: the questions the gate, bookings and the pages ask."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories.training import CertificationFactory, MemberCertificationFactory
from training import selectors

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


@dataclass
class FakeMachine:
    """Equipment's Machine as the selector sees it: only the certification it requires."""

    required_certification_id: int | None


@pytest.mark.parametrize(
    ("granted", "expires", "revoked", "state", "certified"),
    [
        (-100, 300, None, "valid", True),
        (-100, None, None, "valid", True),
        (-300, 20, None, "expiring", True),
        (-400, -1, None, "expired", False),
        (-100, 300, -1, "revoked", False),
        (-100, 300, 1, "valid", True),  # a question about before the revocation
        (1, 300, None, "valid", False),  # granted tomorrow
        (-400, 0, None, "expired", False),  # expires at this very instant
    ],
)
def test_grant_state_and_machine_certification_at_an_instant(
    laser, granted, expires, revoked, state, certified
):
    day = timedelta(days=1)
    grant = MemberCertificationFactory(
        certification=laser,
        granted_at=NOW + granted * day,
        expires_at=None if expires is None else NOW + expires * day,
        revoked_at=None if revoked is None else NOW + revoked * day,
    )
    assert selectors.grant_state(grant, at=NOW) == state
    machine = FakeMachine(required_certification_id=laser.pk)
    assert selectors.member_certified_for_machine(member=grant.member, machine=machine, at=NOW) is (
        certified
    )
    assert (
        selectors.member_holds_certification(member=grant.member, certification=laser, at=NOW)
        is certified
    )
    # The in-memory twin the gate's batched decision uses agrees with the SQL.
    assert selectors.grant_valid_at(grant, at=NOW) is certified
    # So does the dashboard's question about many certifications at once.
    other = CertificationFactory()
    held = selectors.member_holds_certifications(
        member=grant.member, certifications=[laser, other], at=NOW
    )
    assert held == ({laser.pk} if certified else set())


def test_a_machine_needing_no_certification_needs_none(make_member):
    member = make_member()
    assert selectors.member_certified_for_machine(member=member, machine=FakeMachine(None), at=NOW)


def test_a_certification_for_another_machine_does_not_count(laser, safety, make_member):
    member = make_member(certified=[safety])
    assert not selectors.member_certified_for_machine(
        member=member, machine=FakeMachine(laser.pk), at=NOW
    )


def test_summary_prefers_a_valid_grant_over_an_older_revoked_one(laser, make_member):
    member = make_member()
    old = MemberCertificationFactory(
        member=member, certification=laser, granted_at=NOW - timedelta(days=200), revoked_at=NOW
    )
    new = MemberCertificationFactory(member=member, certification=laser, granted_at=NOW)
    summary = selectors.member_certification_summary(member, at=NOW + timedelta(hours=1))
    assert [(h.grant, h.state) for h in summary] == [(new, "valid")]
    assert list(selectors.member_grant_history(member)) == [new, old]


def test_base_certifications_are_the_foundations_others_build_on(safety, laser):
    CertificationFactory(name="Sewing machine", prerequisites=[])
    assert list(selectors.base_certifications()) == [safety]
