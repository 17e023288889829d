"""Billing emails (welcome, payment failed, membership ending), sent after the change commits."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from membership.models import Membership

logger = logging.getLogger(__name__)

WELCOME = "welcome"
PAYMENT_FAILED = "payment_failed"
MEMBERSHIP_ENDING = "membership_ending"
MEMBERSHIP_ENDED = "membership_ended"

_SUBJECTS = {
    WELCOME: "Welcome: your membership is active",
    PAYMENT_FAILED: "Your membership payment failed",
    MEMBERSHIP_ENDING: "Your membership is ending",
    MEMBERSHIP_ENDED: "Your membership has ended",
}


def send_after_commit(kind: str, membership: Membership, **extra) -> None:
    membership_id = membership.pk
    transaction.on_commit(
        lambda: billing_email_send(kind=kind, membership_id=membership_id, **extra)
    )


def billing_email_send(*, kind: str, membership_id: int, ends_at: datetime | None = None) -> None:
    """Render and send one billing email; a mail server failure is logged, never raised."""
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
    body = render_to_string(f"membership/email/billing_{template}.txt", context)
    try:
        send_mail(
            f"[{settings.SPACE_NAME}] {_SUBJECTS[kind]}",
            body,
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
    except Exception:
        # The state change is committed and recorded; a lost email must not undo it or hide it.
        logger.exception("Could not send the %s email to membership %s", kind, membership_id)
