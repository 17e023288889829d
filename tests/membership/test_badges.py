"""Badge UIDs: one canonical form for every reader format, unique among enabled badges."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from gate_agent.badges import InvalidBadgeUID, normalize_badge_uid
from membership import selectors, services
from membership.errors import BadgeRejected
from membership.models import Badge
from tests.factories.membership import BadgeFactory, MemberFactory


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("04A32B1C", "04A32B1C"),
        ("04:a3:2b:1c", "04A32B1C"),
        ("04 A3 2B 1C", "04A32B1C"),
        ("  04-a3-2b-1c\n", "04A32B1C"),
        ("0x04a32b1c", "04A32B1C"),
        ("0077802268", "04A32B1C"),  # ten-digit decimal, as keyboard-wedge readers print it
        ("04:A3:2B:1C:5D:80:00", "04A32B1C5D8000"),  # 7-byte ISO 14443 UID
        ("1A2B3C4D5E", "1A2B3C4D5E"),  # 5-byte EM4100 tag
    ],
)
def test_reader_formats_normalise_to_one_uid(raw, canonical):
    """The same card printed by different readers gives the same canonical UID."""
    assert normalize_badge_uid(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "xyz", "04A32B1", "04A32B", "04A32B1C5D8000AA", "9999999999", "04A32B1G"],
)
def test_garbage_uids_are_refused_with_a_reason(raw):
    """Text no reader prints is refused, with a sentence saying what is wrong."""
    with pytest.raises(InvalidBadgeUID) as error:
        normalize_badge_uid(raw)
    assert str(error.value)


def test_same_card_in_another_format_cannot_be_assigned_twice(db):
    """A card enabled for one member is refused for another, whatever format staff typed."""
    first, second = MemberFactory(), MemberFactory()
    services.badge_assign(member=first, uid="04:a3:2b:1c", actor=None)
    with pytest.raises(BadgeRejected, match="already enabled for another member"):
        services.badge_assign(member=second, uid="0077802268", actor=None)
    assert list(Badge.objects.values_list("member", flat=True)) == [first.pk]


def test_invalid_uid_is_refused_and_nothing_is_written(db):
    with pytest.raises(BadgeRejected, match="not a badge UID"):
        services.badge_assign(member=MemberFactory(), uid="not-a-card", actor=None)
    assert not Badge.objects.exists()


def test_database_refuses_two_enabled_badges_with_one_uid(db):
    """The unique constraint holds even when a service is bypassed."""
    BadgeFactory(uid="04A32B1C")
    with pytest.raises(IntegrityError):
        BadgeFactory(uid="04A32B1C")


def test_disabled_badge_keeps_history_and_frees_the_uid(db, staff_user):
    """A disabled card stays on record with its reason; the UID can be issued again."""
    badge = BadgeFactory(uid="04A32B1C")
    services.badge_disable(badge=badge, reason="Found in the parking lot", actor=staff_user)
    badge.refresh_from_db()
    assert (badge.enabled, badge.disabled_reason, badge.disabled_by) == (
        False,
        "Found in the parking lot",
        staff_user,
    )
    other = MemberFactory()
    services.badge_assign(member=other, uid="04a32b1c", actor=staff_user)
    assert selectors.member_by_badge("04:A3:2B:1C") == other


def test_disabling_needs_a_reason(db):
    badge = BadgeFactory()
    with pytest.raises(BadgeRejected, match="Say why"):
        services.badge_disable(badge=badge, reason="  ", actor=None)
    badge.refresh_from_db()
    assert badge.enabled


def test_lost_card_replacement_links_old_and_new(db, staff_user):
    """Replacing a lost card disables it, issues the new one and keeps the chain."""
    old = BadgeFactory(uid="04A32B1C")
    new = services.badge_replace(
        badge=old, new_uid="04B7C8D9", reason="Lost card", actor=staff_user
    )
    old.refresh_from_db()
    assert not old.enabled and old.replaced_by == new and new.member == old.member
    assert selectors.member_by_badge("04A32B1C") is None
    assert selectors.member_by_badge("04b7c8d9") == old.member


def test_failed_replacement_changes_nothing(db, staff_user):
    """If the new card is taken, the old one stays enabled."""
    old = BadgeFactory(uid="04A32B1C")
    BadgeFactory(uid="04B7C8D9")
    with pytest.raises(BadgeRejected):
        services.badge_replace(badge=old, new_uid="04B7C8D9", reason="Lost", actor=staff_user)
    old.refresh_from_db()
    assert old.enabled and old.replaced_by is None


def test_a_lost_card_cannot_be_replaced_by_itself(db, staff_user):
    """Typing the lost card's own UID as the new one (any reader format) is refused: otherwise the
    lost card is re-issued and keeps opening the gates."""
    old = BadgeFactory(uid="04A32B1C")
    with pytest.raises(BadgeRejected, match="lost card itself"):
        services.badge_replace(badge=old, new_uid="04:a3:2b:1c", reason="Lost", actor=staff_user)
    old.refresh_from_db()
    assert old.enabled and old.replaced_by is None
    assert Badge.objects.count() == 1
