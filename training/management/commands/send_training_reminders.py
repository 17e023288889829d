"""`manage.py send_training_reminders`: expiry reminders and waitlist promotions, once each.

Run it daily (see docs/training.md); running it twice sends nothing twice.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from training import notifications, selectors


class Command(BaseCommand):
    help = (
        "Email members whose certification expires within 30 days and members promoted from a "
        "waitlist whose email has not gone out. Idempotent."
    )

    def handle(self, *args, **options) -> None:
        reminders, promotions = notifications.send_due_reminders(
            at=timezone.now(), within=selectors.EXPIRING_SOON
        )
        self.stdout.write(
            f"Sent {reminders} expiry reminder(s) and {promotions} promotion email(s)."
        )
