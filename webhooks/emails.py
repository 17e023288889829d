"""The email staff get when an endpoint is disabled after a day of failures: a task queued at the
commit that disabled it, each reader's in their own language (core.languages.mail_people)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from core.languages import mail_people
from core.tasks import EmailTask
from webhooks.models import Endpoint

logger = logging.getLogger(__name__)


def _staff() -> list:
    """Everyone who manages webhook endpoints."""
    permission = Permission.objects.get(
        content_type__app_label="webhooks", codename="manage_endpoints"
    )
    users = get_user_model().objects.filter(
        Q(is_superuser=True) | Q(groups__permissions=permission) | Q(user_permissions=permission),
        is_active=True,
    )
    return [user for user in users.distinct().order_by("email") if user.email]


@shared_task(base=EmailTask)
def endpoint_disabled_email(endpoint_id: int) -> int:
    """Tell staff the endpoint was disabled; returns how many were written to."""
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    people = _staff()
    if not people:
        logger.error("Webhook endpoint %s was disabled and no staff can be told.", endpoint.pk)
        return 0
    link = settings.SITE_URL + reverse("webhooks:endpoint_detail", args=[endpoint.pk])

    def compose() -> tuple[str, str]:
        subject = _("Webhook endpoint disabled: %(name)s") % {"name": endpoint.name}
        body = _(
            "The webhook endpoint %(name)s (%(url)s) was disabled: %(reason)s\n\n"
            "Its undelivered events are kept, in order. Fix the receiver, then enable the "
            "endpoint again to send them:\n%(link)s\n"
        ) % {
            "name": endpoint.name,
            "url": endpoint.url,
            "reason": endpoint.disabled_reason,
            "link": link,
        }
        return f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}", body

    return mail_people(people, compose, from_email=settings.DEFAULT_FROM_EMAIL)
