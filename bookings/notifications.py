"""Emails to members about their bookings: tasks, queued after commit with the booking's id,
each written in its member's own language (`core.languages.mail_people`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import shared_task
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from bookings.models import Booking, Wait
from core import formats
from core.languages import mail_people
from core.tasks import EmailTask
from locations import zones

logger = logging.getLogger(__name__)


def _send(booking_id: int, kind: str, subject: StrOrPromise, **extra: str) -> None:
    booking = Booking.objects.select_related("machine", "member__user").get(pk=booking_id)
    context = {
        **extra,
        "booking": booking,
        "member": booking.member,
        "space_name": getattr(settings, "SPACE_NAME", "Toolgate"),
        "bookings_url": getattr(settings, "SITE_URL", "") + reverse("bookings:my_bookings"),
    }

    def compose() -> tuple[str, str]:
        with zones.at(booking):  # the booking's times as its location's clocks show them
            body = render_to_string(f"bookings/email/{kind}.txt", context)
        line = str(subject) % {"machine": booking.machine.name}
        return f"[{context['space_name']}] {line}", body

    mail_people([booking.member.user], compose)
    logger.info("Sent %s email for booking %s", kind, booking_id)


@shared_task(base=EmailTask)
def send_confirmation(booking_id: int) -> None:
    _send(booking_id, "confirmation", _("Booked: %(machine)s"))


@shared_task(base=EmailTask)
def send_reminder(booking_id: int) -> None:
    _send(booking_id, "reminder", _("Reminder: your %(machine)s booking starts soon"))


@shared_task(base=EmailTask)
def send_cancellation(booking_id: int) -> None:
    _send(booking_id, "cancellation", _("Cancelled: your %(machine)s booking"))


@shared_task(base=EmailTask)
def send_machine_out_of_service(booking_id: int, reason: str) -> None:
    _send(booking_id, "out_of_service", _("%(machine)s is out of service"), reason=reason)


def _send_about_wait(wait_id: int, kind: str, subject: Callable[[Wait], str], **urls: str) -> None:
    wait = Wait.objects.select_related("machine", "member__user").get(pk=wait_id)
    site = getattr(settings, "SITE_URL", "")
    context = {
        "wait": wait,
        "member": wait.member,
        "space_name": getattr(settings, "SPACE_NAME", "Toolgate"),
        "bookings_url": site + reverse("bookings:my_bookings"),
        **{name: site + path for name, path in urls.items()},
    }

    def compose() -> tuple[str, str]:
        with zones.at(wait):  # its times as its location's clocks show them
            body = render_to_string(f"bookings/email/{kind}.txt", context)
            return f"[{context['space_name']}] {subject(wait)}", body

    mail_people([wait.member.user], compose)
    logger.info("Sent %s email for wait %s", kind, wait_id)


@shared_task(base=EmailTask)
def send_waitlist_offer(wait_id: int) -> None:
    """The freed time, held for this member until the deadline, with the link that books it."""

    def subject(wait: Wait) -> str:
        if wait.offer_until is None:
            return gettext("Free: %(machine)s, held for you until soon") % {
                "machine": wait.machine.name
            }
        return gettext("Free: %(machine)s, held for you until %(until)s") % {
            "machine": wait.machine.name,
            "until": formats.format_time(wait.offer_until),
        }

    offer_url = reverse("bookings:wait_offer", args=[wait_id])
    _send_about_wait(wait_id, "waitlist_offer", subject, offer_url=offer_url)


@shared_task(base=EmailTask)
def send_waitlist_passed_over(wait_id: int) -> None:
    """Time the member waits for came free, but the rules refused it to them: why, what fixes
    it, and that they keep their place."""

    def subject(wait: Wait) -> str:
        return gettext("%(machine)s came free, but not for you yet") % {
            "machine": wait.machine.name
        }

    _send_about_wait(wait_id, "waitlist_passed_over", subject, dashboard_url=reverse("dashboard"))
