"""Accounts through django-allauth: sign-up by email, verification, log-in rate limits."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse

from membership.models import Member, MembershipStatus, User
from tests.factories.membership import PASSWORD, PlanFactory, UserFactory


def test_sign_up_creates_a_member_with_a_pending_membership(client, db):
    PlanFactory()
    response = client.post(
        reverse("account_signup"),
        {
            "email": "ada@example.org",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "password1": "analytical-engine-1843",
            "password2": "analytical-engine-1843",
        },
    )
    assert response.status_code == 302
    member = Member.objects.get(user__email="ada@example.org")
    assert member.display_name == "Ada Lovelace"
    assert member.membership.status == MembershipStatus.PENDING
    assert member.membership.plan.monthly_price_cents == 10000


def test_email_must_be_verified_before_logging_in(client, db, django_capture_on_commit_callbacks):
    """Until the link in the email is followed, log-in stops at 'verify your email'."""
    with django_capture_on_commit_callbacks(execute=True):  # the email is queued after commit
        client.post(
            reverse("account_signup"),
            {
                "email": "grace@example.org",
                "first_name": "Grace",
                "last_name": "Hopper",
                "password1": "cobol-compiler-1959",
                "password2": "cobol-compiler-1959",
            },
        )
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "grace@example.org", "password": "cobol-compiler-1959"}
    )
    assert response["Location"] == reverse("account_email_verification_sent")
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.post("/" + path)
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200


def test_duplicate_email_sign_up_creates_no_second_account(
    client, db, django_capture_on_commit_callbacks
):
    """Signing up with a taken email reveals nothing to the visitor; the owner is told by email."""
    UserFactory(email="taken@example.org")
    with django_capture_on_commit_callbacks(execute=True):  # the email is queued after commit
        response = client.post(
            reverse("account_signup"),
            {
                "email": "TAKEN@example.org",
                "first_name": "A",
                "last_name": "B",
                "password1": "analytical-engine-1843",
                "password2": "analytical-engine-1843",
            },
        )
    assert response.status_code == 302
    assert User.objects.filter(email__iexact="taken@example.org").count() == 1
    assert mail.outbox[0].to == ["taken@example.org"]
    assert "already" in mail.outbox[0].body


def test_repeated_failed_logins_are_rate_limited(client, db):
    """After five wrong passwords for one account, even the right one is refused for a while."""
    user = UserFactory(email="target@example.org")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    for _ in range(5):
        client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session
