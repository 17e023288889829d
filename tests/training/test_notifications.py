"""Reminder emails: expiring certifications and waitlist promotions, each sent once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from tests.factories.training import EnrollmentFactory, MemberCertificationFactory
from training import notifications
from training.models import EnrollmentStatus, FeeState

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


def _grant(laser, *, expires_in, **kwargs):
    return MemberCertificationFactory(
        certification=laser,
        granted_at=NOW - timedelta(days=300),
        expires_at=NOW + expires_in,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("expires_in", "revoked", "renewed", "emailed"),
    [
        (timedelta(days=10), False, False, True),
        (timedelta(days=30), False, False, True),
        (timedelta(days=31), False, False, False),
        (timedelta(days=-1), False, False, False),
        (timedelta(days=10), True, False, False),
        (timedelta(days=10), False, True, False),
    ],
    ids=["in-10-days", "in-30-days", "in-31-days", "already-expired", "revoked", "renewed"],
)
@time_machine.travel(NOW, tick=False)
def test_who_gets_an_expiry_reminder(laser, expires_in, revoked, renewed, emailed):
    grant = _grant(laser, expires_in=expires_in, revoked_at=NOW if revoked else None)
    if renewed:
        MemberCertificationFactory(
            member=grant.member, certification=laser, expires_at=NOW + timedelta(days=365)
        )
    call_command("send_training_reminders", stdout=mock.MagicMock())
    assert [m.to for m in mail.outbox] == ([[grant.member.user.email]] if emailed else [])


@time_machine.travel(NOW, tick=False)
def test_running_the_command_twice_sends_nothing_twice(laser, laser_class):
    _grant(laser, expires_in=timedelta(days=5))
    promoted = EnrollmentFactory(session=laser_class, promoted_at=NOW)
    call_command("send_training_reminders", stdout=mock.MagicMock())
    call_command("send_training_reminders", stdout=mock.MagicMock())
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        "[Toolgate Makerspace] You have a seat: Laser cutter class",
        "[Toolgate Makerspace] Your Laser cutter certification expires soon",
    ]
    promoted.refresh_from_db()
    assert promoted.promotion_notified_at == NOW


@time_machine.travel(NOW, tick=False)
def test_a_failed_send_is_retried_on_the_next_run(laser):
    grant = _grant(laser, expires_in=timedelta(days=5))
    with mock.patch("core.languages.send_mail", side_effect=OSError("SMTP down")):
        assert notifications.send_due_reminders(at=NOW, within=timedelta(days=30)) == (0, 0)
    grant.refresh_from_db()
    assert grant.expiry_reminder_sent_at is None
    assert notifications.send_due_reminders(at=NOW, within=timedelta(days=30)) == (1, 0)


def test_a_promotion_already_cancelled_is_not_announced(laser_class):
    enrollment = EnrollmentFactory(
        session=laser_class, promoted_at=NOW, status=EnrollmentStatus.CANCELLED
    )
    assert notifications.promotion_notify(enrollment.pk) is False
    assert mail.outbox == []


@time_machine.travel(NOW, tick=False)
def test_a_member_reading_korean_gets_their_class_email_in_korean(laser_class):
    """Written in the member's own language (User.language), the fee in its Korean form too."""
    enrollment = EnrollmentFactory(
        session=laser_class,
        promoted_at=NOW,
        fee_minor=3000,
        fee_currency="usd",
        fee_state=FeeState.DUE,
    )
    user = enrollment.member.user
    user.language = "ko"
    user.save(update_fields=["language"])
    assert notifications.promotion_notify(enrollment.pk) is True
    (email,) = mail.outbox
    assert email.to == [user.email]
    assert email.subject == "[Toolgate Makerspace] 자리가 확정되었습니다: Laser cutter 교육"
    assert "빈자리가 나서 회원님의 자리가 되었습니다" in email.body
    assert "교육비는 US$30.00입니다." in email.body
    assert "Hello" not in email.body and "seat" not in email.body


@time_machine.travel(NOW, tick=False)
def test_a_cancelled_class_tells_each_member_in_their_own_language(laser_class):
    korean, english = EnrollmentFactory(session=laser_class), EnrollmentFactory(session=laser_class)
    korean.member.user.language = "ko"
    korean.member.user.save(update_fields=["language"])
    laser_class.cancelled_at, laser_class.cancel_reason = NOW, "강사 사정"
    laser_class.save(update_fields=["cancelled_at", "cancel_reason"])
    for enrollment in (korean, english):
        notifications.session_changed_email(enrollment.pk)
    by_address = {m.to[0]: m for m in mail.outbox}
    in_korean = by_address[korean.member.user.email]
    in_english = by_address[english.member.user.email]
    assert in_korean.subject == "[Toolgate Makerspace] 취소됨: Laser cutter 교육"
    assert "교육이 취소되었습니다: 강사 사정" in in_korean.body
    assert in_english.subject == "[Toolgate Makerspace] Cancelled: Laser cutter class"
    assert "is cancelled: 강사 사정" in in_english.body
