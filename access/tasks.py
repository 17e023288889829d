"""The access app's tasks for the task runner: a gate alarm emailed to the machine's maintainers."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from access.models import GateAlarm
from core.languages import mail_people
from core.tasks import EmailTask


@shared_task(base=EmailTask)
def gate_alarm_email(alarm_id: int) -> int:
    """Tell the machine's maintainers (staff with gate rights when it has none) about an alarm,
    each in their own language; returns how many people were written to."""
    alarm = GateAlarm.objects.select_related("device", "machine").get(pk=alarm_id)
    people = list(alarm.machine.maintainers.exclude(email="").order_by("email"))
    if not people:
        staff = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
        people = [user for user in staff.order_by("email") if user.has_perm("access.manage_gates")]
    context = {
        "alarm": alarm,
        "space_name": settings.SPACE_NAME,
        "live_url": settings.SITE_URL + reverse("access:live"),
    }

    def compose() -> tuple[str, str]:
        subject = _("Gate alarm on %(machine)s: %(reason)s") % {
            "machine": alarm.machine.name,
            "reason": alarm.reason,
        }
        return (
            f"[{settings.SPACE_NAME}] {subject}",
            render_to_string("access/email/gate_alarm.txt", context),
        )

    return mail_people(people, compose)
