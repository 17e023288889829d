"""`manage.py extend_class_series`: keep every recurring class's sessions 12 weeks ahead.
The task runner's beat runs the same job nightly (docs/tasks.md); this runs it once, now."""

from django.core.management.base import BaseCommand

from bookings.tasks import extend_class_series


class Command(BaseCommand):
    help = "Create the sessions of recurring class series up to the horizon (12 weeks). Idempotent."

    def handle(self, *args, **options) -> None:
        created = extend_class_series()
        self.stdout.write(f"Created {created} class session(s).")
