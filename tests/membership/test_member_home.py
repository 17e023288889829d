"""The member's home says exactly what holds; the profile edits a member's own details."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from membership import readiness
from membership.adapters import lockout_minutes
from membership.models import MembershipStatus
from tests.factories.membership import ready_member
from tests.factories.training import CertificationFactory, MemberCertificationFactory

pytestmark = pytest.mark.django_db


def _steps(member) -> dict:
    return {step.key: step for step in readiness.member_readiness(member).steps}


def test_past_due_in_grace_says_paid_through_and_when_access_ends(time_machine):
    time_machine.move_to("2026-12-22 12:00:00-08:00", tick=False)
    member = ready_member(
        status=MembershipStatus.PAST_DUE,
        current_period_end=timezone.datetime.fromisoformat("2026-12-21T20:43:00-08:00"),
    )
    step = _steps(member)["payment"]
    assert step.done and step.warning and step.url_label == "Pay now"
    assert step.detail == (
        "Past due: paid through Mon 21 Dec 2026, access continues until Thu 24 Dec 2026 (grace)."
    )


def test_an_expired_certification_is_named_with_its_date(time_machine):
    time_machine.move_to("2026-12-20 12:00:00-08:00", tick=False)
    member = ready_member()
    laser = CertificationFactory(name="Laser cutter")
    MemberCertificationFactory(
        member=member,
        certification=laser,
        expires_at=timezone.datetime.fromisoformat("2026-12-16T12:00:00-08:00"),
    )
    lapsed = [s for s in readiness.member_readiness(member).steps if s.key.startswith("lapsed")]
    assert [(s.title, s.done, s.url_label) for s in lapsed] == [
        ("Laser cutter: expired Wed 16 Dec 2026", False, "Book a refresher")
    ]


def test_the_dashboard_does_not_call_an_expired_member_ready(client, time_machine):
    time_machine.move_to("2026-12-20 12:00:00-08:00", tick=False)
    member = ready_member()
    MemberCertificationFactory(
        member=member,
        certification=CertificationFactory(name="Laser cutter"),
        expires_at=timezone.now() - timedelta(days=4),
    )
    client.force_login(member.user)
    page = client.get(reverse("dashboard")).content.decode()
    assert "ready to make" not in page and "Laser cutter: expired" in page
    assert "Book a machine" in page


def test_the_profile_edits_name_phone_and_emergency_contact(client):
    member = ready_member()
    client.force_login(member.user)
    assert client.get(reverse("profile")).status_code == 200
    client.post(
        reverse("profile"),
        {
            "first_name": "Maya",
            "last_name": "Maker",
            "phone": "+1 510 555 0100",
            "emergency_contact": "Sam Maker, +1 510 555 0101",
            "language": "en",
            "form_token": uuid.uuid4(),
        },
    )
    member.refresh_from_db()
    member.user.refresh_from_db()
    assert (member.user.get_full_name(), member.phone, member.emergency_contact) == (
        "Maya Maker",
        "+1 510 555 0100",
        "Sam Maker, +1 510 555 0101",
    )


def test_sign_up_asks_for_phone_and_emergency_contact(client):
    page = client.get(reverse("account_signup")).content.decode()
    assert 'name="phone"' in page and 'name="emergency_contact"' in page


def test_the_lockout_says_how_long_and_links_the_reset(settings):
    from membership.adapters import AccountAdapter

    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
    assert lockout_minutes() == 5
    message = AccountAdapter().error_messages["too_many_login_attempts"]
    assert "try again in 5 minutes" in message and reverse("account_reset_password") in message
