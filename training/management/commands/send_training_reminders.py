"""`manage.py send_training_reminders`: expiry reminders and waitlist promotions, once each.

The task runner's beat runs the same job hourly (docs/tasks.md); this runs it once, now. Running
it twice sends nothing twice.
"""

from django.core.management.base import BaseCommand

from training.tasks import send_training_reminders


class Command(BaseCommand):
    help = (
        "Email members whose certification expires within 30 days and members promoted from a "
        "waitlist whose email has not gone out. Idempotent."
    )

    def handle(self, *args, **options) -> None:
        sent = send_training_reminders()
        self.stdout.write(
            f"Sent {sent['reminders']} expiry reminder(s) and {sent['promotions']} "
            "promotion email(s)."
        )
