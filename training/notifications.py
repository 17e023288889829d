"""Emails training sends: waitlist promotions, expiry reminders, moved or cancelled classes.

Each email is a task (queued after commit, retried by the task runner when the mail server
refuses). Promotion and expiry emails are claimed in the database before they are sent (a
timestamp set only where still empty), so neither the queued task nor the periodic job ever sends
one twice; a failed send rolls its claim back, so the next periodic run tries it again even after
the task has given up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from core.languages import mail_people
from core.money import money_format
from core.tasks import EmailTask, QueuedOnCommit
from locations import zones
from membership.models import User
from training.models import Enrollment, EnrollmentStatus, MemberCertification

logger = logging.getLogger(__name__)
# Money written when the email is, in its reader's language (100,000원 for Korean readers).
_money = lazy(money_format, str)


def _send(
    template: str, subject: Callable[[], str], to: User, context: dict, *, where: Any = None
) -> None:
    """Written in the language `to` reads (`subject` is called with it active). Times in the
    email are in the zone of `where` (the class's location; None: the default)."""
    context = {**context, "space_name": settings.SPACE_NAME, "site_url": settings.SITE_URL}

    def compose() -> tuple[str, str]:
        with zones.at(where) if where is not None else nullcontext():
            body = render_to_string(f"training/email/{template}.txt", context)
        return f"[{settings.SPACE_NAME}] {subject()}", body

    mail_people([to], compose)


@shared_task(base=EmailTask)
def promotion_notify(enrollment_id: int) -> bool:
    """Tell a member they moved off the waitlist into a seat; True if this call sent it."""
    with transaction.atomic():
        claimed = Enrollment.objects.filter(
            pk=enrollment_id,
            status=EnrollmentStatus.ENROLLED,
            promoted_at__isnull=False,
            promotion_notified_at__isnull=True,
        ).update(promotion_notified_at=timezone.now())
        if not claimed:
            return False
        enrollment = Enrollment.objects.select_related(
            "member__user", "session__certification"
        ).get(pk=enrollment_id)
        _send(
            "promoted",
            lambda: (
                _("You have a seat: %(certification)s class")
                % {"certification": enrollment.session.certification}
            ),
            enrollment.member.user,
            {
                "enrollment": enrollment,
                "session": enrollment.session,
                "url": settings.SITE_URL + reverse("training:my_certifications"),
                "pay_url": settings.SITE_URL
                + reverse("training:session_detail", args=[enrollment.session_id]),
                "fee": _money(enrollment.fee_minor, enrollment.fee_currency or "usd"),
            },
            where=enrollment.session,
        )
    return True


@shared_task(base=EmailTask)
def expiry_reminder_notify(grant_id: int) -> bool:
    """Remind a member their certification runs out soon; True if this call sent it."""
    with transaction.atomic():
        claimed = MemberCertification.objects.filter(
            pk=grant_id, expiry_reminder_sent_at__isnull=True
        ).update(expiry_reminder_sent_at=timezone.now())
        if not claimed:
            return False
        grant = MemberCertification.objects.select_related("member__user", "certification").get(
            pk=grant_id
        )
        _send(
            "expiring",
            lambda: (
                _("Your %(certification)s certification expires soon")
                % {"certification": grant.certification}
            ),
            grant.member.user,
            {"grant": grant, "url": settings.SITE_URL + reverse("training:class_list")},
            # Valid at every location: dated where the member mostly goes.
            where=grant.member.home_location,
        )
    return True


def grants_due_for_reminder(*, at: datetime, within) -> list[int]:
    """Valid grants expiring within `within` of `at`, not yet reminded and not already renewed."""
    renewed = MemberCertification.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=OuterRef("expires_at")),
        member=OuterRef("member"),
        certification=OuterRef("certification"),
        revoked_at__isnull=True,
        granted_at__lte=at,
    )
    return list(
        MemberCertification.objects.filter(
            revoked_at__isnull=True,
            expiry_reminder_sent_at__isnull=True,
            granted_at__lte=at,
            expires_at__gt=at,
            expires_at__lte=at + within,
        )
        .exclude(Exists(renewed))
        .values_list("pk", flat=True)
    )


def promotions_due(*, at: datetime) -> list[int]:
    """Promotions whose email has not gone out (the after-commit send failed or never ran)."""
    return list(
        Enrollment.objects.filter(
            status=EnrollmentStatus.ENROLLED,
            promoted_at__isnull=False,
            promotion_notified_at__isnull=True,
            session__start__gt=at,
        ).values_list("pk", flat=True)
    )


def send_due_reminders(*, at: datetime, within) -> tuple[int, int]:
    """Send every due expiry reminder and promotion email; returns (reminders, promotions)."""
    reminders = promotions = 0
    for grant_id in grants_due_for_reminder(at=at, within=within):
        reminders += _safely(expiry_reminder_notify, grant_id)
    for enrollment_id in promotions_due(at=at):
        promotions += _safely(promotion_notify, enrollment_id)
    return reminders, promotions


def _safely(notify, pk: int) -> int:
    """One failing address must not stop the others; it is logged and retried next run."""
    try:
        return int(notify(pk))
    except Exception:
        logger.exception("Could not send %s for %s", notify.name, pk)
        return 0


@shared_task(base=QueuedOnCommit)
def session_changed_notify(session_id: int, *, enrollment_ids: list[int] | None = None) -> int:
    """Tell the members of a moved session (or of `enrollment_ids`, for a cancelled one): one
    email task each, so that a retry never mails again those already told. Returns how many."""
    enrollments = Enrollment.objects.filter(session_id=session_id)
    if enrollment_ids is None:
        enrollments = enrollments.filter(
            status__in=[EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED]
        )
    else:
        enrollments = enrollments.filter(pk__in=enrollment_ids)
    queued = 0
    for enrollment_id in enrollments.values_list("pk", flat=True):
        session_changed_email.delay_on_commit(enrollment_id)
        queued += 1
    return queued


@shared_task(base=EmailTask)
def session_changed_email(enrollment_id: int) -> None:
    """One member's email about their class: cancelled, or at a new time."""
    enrollment = Enrollment.objects.select_related("member__user", "session__certification").get(
        pk=enrollment_id
    )
    session = enrollment.session
    _send(
        "cancelled" if session.is_cancelled else "moved",
        lambda: (
            (
                _("Cancelled: %(certification)s class")
                if session.is_cancelled
                else _("New time: %(certification)s class")
            )
            % {"certification": session.certification}
        ),
        enrollment.member.user,
        {
            "session": session,
            "enrollment": enrollment,
            "url": settings.SITE_URL + reverse("training:class_list"),
        },
        where=session,
    )


@shared_task(base=EmailTask)
def series_kept_email(enrollment_id: int) -> None:
    """One member's email: their class's series changed, their class stays as booked."""
    enrollment = Enrollment.objects.select_related("member__user", "session__certification").get(
        pk=enrollment_id
    )
    session = enrollment.session
    _send(
        "series_kept",
        lambda: (
            _("Your %(certification)s class stays as booked")
            % {"certification": session.certification}
        ),
        enrollment.member.user,
        {
            "session": session,
            "enrollment": enrollment,
            "url": settings.SITE_URL + reverse("training:session_detail", args=[session.pk]),
        },
        where=session,
    )


def series_kept_notify(session_ids: list[int]) -> int:
    """Queue (at commit) one email to each member enrolled or waitlisted in `session_ids`."""
    enrollments = Enrollment.objects.filter(
        session_id__in=session_ids,
        status__in=[EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED],
    ).values_list("pk", flat=True)
    queued = 0
    for enrollment_id in enrollments:
        series_kept_email.delay_on_commit(enrollment_id)
        queued += 1
    return queued
