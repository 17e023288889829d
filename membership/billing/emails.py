"""Billing emails (welcome, payment failed, membership ending): tasks queued when the change
commits, retried by the task runner while the mail server refuses."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.languages import mail_people
from core.tasks import EmailTask
from membership.models import Membership

WELCOME = "welcome"
PAYMENT_FAILED = "payment_failed"
MEMBERSHIP_ENDING = "membership_ending"
MEMBERSHIP_ENDED = "membership_ended"

_SUBJECTS = {
    WELCOME: _("Welcome: your membership is active"),
    PAYMENT_FAILED: _("Your membership payment failed"),
    MEMBERSHIP_ENDING: _("Your membership is ending"),
    MEMBERSHIP_ENDED: _("Your membership has ended"),
}


def send_after_commit(kind: str, membership: Membership, **extra) -> None:
    billing_email_send.delay_on_commit(kind=kind, membership_id=membership.pk, **extra)


@shared_task(base=EmailTask)
def billing_email_send(*, kind: str, membership_id: int, ends_at: datetime | None = None) -> None:
    """Render and send one billing email. The state change is committed and recorded already; a
    mail server failure is retried by the task runner, and shown to staff if it never goes."""
    membership = Membership.objects.select_related("member__user", "plan").get(pk=membership_id)
    user = membership.member.user
    context = {
        "kind": kind,
        "member": membership.member,
        "membership": membership,
        "ends_at": ends_at,
        "space_name": settings.SPACE_NAME,
        "billing_url": settings.SITE_URL + reverse("membership_billing"),
        "portal_url": settings.SITE_URL + reverse("billing_portal"),
    }
    template = "ending" if kind in {MEMBERSHIP_ENDING, MEMBERSHIP_ENDED} else kind

    def compose() -> tuple[str, str]:
        return (
            f"[{settings.SPACE_NAME}] {_SUBJECTS[kind]}",
            render_to_string(f"membership/email/billing_{template}.txt", context),
        )

    mail_people([user], compose, from_email=settings.DEFAULT_FROM_EMAIL)
