"""`manage.py extend_class_series`: keep every recurring class's sessions 12 weeks ahead."""

from django.core.management.base import BaseCommand

from training import scheduling


class Command(BaseCommand):
    help = "Create the sessions of recurring class series up to the horizon (12 weeks). Idempotent."

    def handle(self, *args, **options) -> None:
        created = scheduling.series_extend_all()
        self.stdout.write(f"Created {created} class session(s).")
