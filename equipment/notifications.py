"""Emails about machines: a problem report to the people who look after the machine, each in
their own language (core.languages.mail_people)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from core.languages import mail_people
from core.tasks import EmailTask
from equipment import selectors
from equipment.models import ProblemReport

logger = logging.getLogger(__name__)


@shared_task(base=EmailTask)
def send_problem_report(report_id: int) -> None:
    """Tell the machine's maintainers (or, when it has none, staff who manage machines)."""
    report = ProblemReport.objects.select_related("machine", "reporter").get(pk=report_id)
    recipients = selectors.problem_report_recipients(report.machine)
    if not recipients:
        logger.warning("Problem report %s: nobody looks after %s", report_id, report.machine)
        return
    space_name = getattr(settings, "SPACE_NAME", "Toolgate")
    site = getattr(settings, "SITE_URL", "")
    context = {
        "report": report,
        "space_name": space_name,
        "machine_url": site + report.machine.get_absolute_url(),
        "reports_url": site + reverse("equipment:problem_list"),
    }

    def compose() -> tuple[str, str]:
        # The severity's label is read in the language being written (report.severity_short).
        subject = _("[%(space)s] %(severity)s problem: %(machine)s") % {
            "space": space_name,
            "severity": report.severity_short,
            "machine": report.machine,
        }
        if report.is_safety:
            subject = _("%(subject)s (taken out of service)") % {"subject": subject}
        return subject, render_to_string("equipment/email/problem_report.txt", context)

    sent = mail_people(recipients, compose)
    logger.info("Sent problem report %s to %d people", report_id, sent)
