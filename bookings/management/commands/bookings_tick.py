"""`manage.py bookings_tick`: release no-shows, complete finished bookings, queue reminders.

The task runner's beat runs the same job every minute (docs/tasks.md); this runs it once, now.
Idempotent.
"""

from django.core.management.base import BaseCommand

from bookings.tasks import bookings_tick


class Command(BaseCommand):
    help = "Release no-shows, complete finished bookings and queue reminders (safe to rerun)."

    def handle(self, *args, **options) -> None:
        done = bookings_tick()
        self.stdout.write(
            f"no-shows released: {done['no_shows']}, completed: {done['completed']}, "
            f"reminders queued: {done['reminders']}, waitlist offers lapsed: "
            f"{done['offers_lapsed']}, waits over: {done['waits_over']}"
        )
