"""The demo shows classes and certifications in every state, and seeding twice adds nothing."""

from __future__ import annotations

from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from membership.models import Member
from training import selectors
from training.models import ClassSession, MemberCertification, TrainingRequest


def test_seed_demo_has_classes_and_every_certification_state(db, capsys):
    call_command("seed_demo")
    counts = (ClassSession.objects.count(), MemberCertification.objects.count())
    call_command("seed_demo")
    assert (ClassSession.objects.count(), MemberCertification.objects.count()) == counts

    now = timezone.now()
    assert selectors.sessions_upcoming(at=now).filter(series__isnull=False).count() == 12
    # Two in Menlo Park, one at Raleigh (the demo chain).
    assert selectors.sessions_upcoming(at=now).filter(series__isnull=True).count() == 3
    maker = Member.objects.get(user__email="maker@toolgate.test")
    states = {
        h.certification.slug: h.state for h in selectors.member_certification_summary(maker, at=now)
    }
    assert states == {
        "general-shop-safety": "valid",
        "laser-cutter": "valid",
        "cnc-router": "expiring",
        "3d-printer": "revoked",
    }
    late = Member.objects.get(user__email="late@toolgate.test")
    assert {h.state for h in selectors.member_certification_summary(late, at=now)} == {
        "valid",
        "expired",
    }
    assert TrainingRequest.objects.filter(fulfilled_at__isnull=True).count() == 3
    newbie = Member.objects.get(user__email="newbie@toolgate.test")
    assert newbie.enrollments.get().session.start < now  # yesterday's class, ready to mark

    call_command("send_training_reminders")
    assert [m.to for m in mail.outbox] == [["maker@toolgate.test"]]
