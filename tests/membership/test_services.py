"""Membership actions: manual payments, state changes with reasons, waiver signatures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from dateutil.relativedelta import relativedelta

from core.errors import DuplicateSubmission
from membership import roles, selectors, services
from membership.errors import MembershipError
from membership.models import ChangeCause, MembershipStatus, Payment
from tests.factories.membership import (
    MembershipFactory,
    UserFactory,
    WaiverFactory,
    ready_member,
)

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_manual_payment_on_a_lapsed_membership_runs_one_month_from_now(db, staff_user):
    membership = MembershipFactory(
        status=MembershipStatus.CANCELED, current_period_end=NOW - relativedelta(months=2)
    )
    payment = services.payment_record_manual(member=membership.member, actor=staff_user)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.current_period_end == NOW + relativedelta(months=1)
    assert (payment.amount_cents, payment.recorded_by) == (10000, staff_user)
    change = membership.changes.first()
    assert (change.cause, change.actor, change.from_status) == (
        ChangeCause.MANUAL_PAYMENT,
        staff_user,
        MembershipStatus.CANCELED,
    )


@time_machine.travel(NOW, tick=False)
def test_early_manual_payment_extends_from_the_current_period_end(db, staff_user):
    """Paying before the period ends never loses the days already paid."""
    end = NOW + relativedelta(days=10)
    membership = MembershipFactory(current_period_end=end)
    services.payment_record_manual(member=membership.member, actor=staff_user)
    membership.refresh_from_db()
    assert membership.current_period_end == end + relativedelta(months=1)


def test_double_submitted_payment_is_recorded_once(db, staff_user):
    """The same form token twice: the second is refused and the period is extended once."""
    membership = MembershipFactory()
    token = uuid.uuid4()
    services.payment_record_manual(member=membership.member, actor=staff_user, token=token)
    membership.refresh_from_db()
    end_after_first = membership.current_period_end
    with pytest.raises(DuplicateSubmission):
        services.payment_record_manual(member=membership.member, actor=staff_user, token=token)
    membership.refresh_from_db()
    assert membership.current_period_end == end_after_first
    assert Payment.objects.count() == 1


def test_refused_action_releases_its_token(db):
    """A form refused for bad input can be corrected and sent again with the same token."""
    membership = MembershipFactory()
    token = uuid.uuid4()
    with pytest.raises(MembershipError, match="Say why"):
        services.membership_set_status(
            membership=membership,
            status="canceled",
            reason=" ",
            cause=ChangeCause.STAFF,
            token=token,
        )
    services.membership_set_status(
        membership=membership,
        status="canceled",
        reason="Moved away",
        cause=ChangeCause.STAFF,
        token=token,
    )
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.CANCELED


@pytest.mark.parametrize("who", ["nobody named", "an instructor"])
def test_staff_make_a_membership_active_by_hand_only_with_the_payment_permission(db, who):
    """Active by hand is free membership: refused without an actor who may record payments."""
    membership = MembershipFactory(status=MembershipStatus.CANCELED)
    actor = None if who == "nobody named" else UserFactory(role=roles.INSTRUCTOR)
    with pytest.raises(MembershipError, match="Only staff who may record payments"):
        services.membership_set_status(
            membership=membership,
            status=MembershipStatus.ACTIVE,
            reason="Free month",
            cause=ChangeCause.STAFF,
            actor=actor,
        )
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.CANCELED


def test_staff_who_may_record_payments_make_a_membership_active_by_hand(db, staff_user):
    membership = MembershipFactory(status=MembershipStatus.CANCELED)
    services.membership_set_status(
        membership=membership,
        status=MembershipStatus.ACTIVE,
        reason="Free month",
        cause=ChangeCause.STAFF,
        actor=staff_user,
    )
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE


@pytest.mark.parametrize(
    ("status", "period_end_days", "in_good_standing"),
    [
        (MembershipStatus.ACTIVE, 5, True),
        (MembershipStatus.ACTIVE, -2, True),  # lapsed two days ago: still inside the 3-day grace
        (MembershipStatus.ACTIVE, -4, False),
        (MembershipStatus.PAST_DUE, -1, True),
        (MembershipStatus.PAST_DUE, -3, False),
        (MembershipStatus.PENDING, 30, False),
        (MembershipStatus.CANCELED, 30, False),
        # Set Active by hand, with no payment: a comped membership, paid until someone changes it.
        (MembershipStatus.ACTIVE, None, True),
        (MembershipStatus.PAST_DUE, None, False),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_good_standing_table(db, status, period_end_days, in_good_standing):
    end = None if period_end_days is None else NOW + relativedelta(days=period_end_days)
    membership = MembershipFactory.build(status=status, current_period_end=end)
    assert selectors.membership_in_good_standing(membership, at=NOW) is in_good_standing


def test_no_membership_is_not_good_standing():
    """A member who never joined (no membership row) may not use machines."""
    assert selectors.membership_in_good_standing(None, at=NOW) is False


def test_losing_access_tells_the_gate_in_the_same_transaction(db, gate_calls):
    """Cancelling a member who could use machines queues the gates' switch-off with the change:
    if the change rolls back, so does the switch-off."""
    member = ready_member()
    services.membership_set_status(
        membership=member.membership,
        status=MembershipStatus.CANCELED,
        reason="Asked to cancel",
        cause=ChangeCause.STAFF,
    )
    assert gate_calls.members() == [member.pk]


def test_status_must_be_a_known_state(db):
    membership = MembershipFactory()
    with pytest.raises(MembershipError, match="not a membership state"):
        services.membership_set_status(
            membership=membership, status="gold", reason="x", cause=ChangeCause.STAFF
        )
    assert not membership.changes.exists()


def test_waiver_is_signed_once_per_version(db):
    membership = MembershipFactory()
    waiver = WaiverFactory()
    services.waiver_sign(member=membership.member, waiver=waiver, signed_name="Ada Lovelace")
    assert selectors.member_signed_current_waiver(membership.member)
    with pytest.raises(MembershipError, match="already signed"):
        services.waiver_sign(member=membership.member, waiver=waiver, signed_name="Ada Lovelace")


def test_new_waiver_version_must_be_signed_again(db):
    """Publishing version 2 makes every member sign again; the old version can't be signed."""
    member = ready_member().membership.member
    new = WaiverFactory(version=2, text="Updated rules")
    assert not selectors.member_signed_current_waiver(member)
    with pytest.raises(MembershipError, match="no longer current"):
        services.waiver_sign(member=member, waiver=WaiverFactory(version=1), signed_name="X")
    services.waiver_sign(member=member, waiver=new, signed_name="X")
    assert selectors.member_signed_current_waiver(member)


def test_waiver_needs_a_typed_name(db):
    membership = MembershipFactory()
    with pytest.raises(MembershipError, match="full name"):
        services.waiver_sign(member=membership.member, waiver=WaiverFactory(), signed_name=" ")
