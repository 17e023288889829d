"""The access app's tasks for the task runner: a gate alarm emailed to the machine's maintainers."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from access.models import GateAlarm
from core.tasks import EmailTask


@shared_task(base=EmailTask)
def gate_alarm_email(alarm_id: int) -> int:
    """Tell the machine's maintainers (staff with gate rights when it has none) about an alarm;
    returns how many people were written to."""
    alarm = GateAlarm.objects.select_related("device", "machine").get(pk=alarm_id)
    to = sorted(alarm.machine.maintainers.exclude(email="").values_list("email", flat=True))
    if not to:
        from django.contrib.auth import get_user_model

        staff = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
        to = sorted(u.email for u in staff if u.has_perm("access.manage_gates"))
    if not to:
        return 0
    context = {
        "alarm": alarm,
        "space_name": settings.SPACE_NAME,
        "live_url": settings.SITE_URL + reverse("access:live"),
    }
    send_mail(
        f"[{settings.SPACE_NAME}] Gate alarm on {alarm.machine.name}: {alarm.reason}",
        render_to_string("access/email/gate_alarm.txt", context),
        None,
        to,
    )
    return len(to)
