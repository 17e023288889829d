"""`manage.py bookings_tick`: release no-shows, complete finished bookings, send reminders.

Idempotent: run it every few minutes from cron or a systemd timer (see docs/bookings.md).
"""

from django.core.management.base import BaseCommand

from bookings import services


class Command(BaseCommand):
    help = "Release no-shows, complete finished bookings and email reminders (safe to rerun)."

    def handle(self, *args, **options) -> None:
        released = services.bookings_release()
        reminders = services.bookings_send_reminders()
        self.stdout.write(
            f"no-shows released: {released['no_shows']}, completed: {released['completed']}, "
            f"reminders sent: {reminders}"
        )
