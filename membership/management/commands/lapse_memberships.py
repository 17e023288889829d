"""Record memberships whose grace period ran out and tell the gate. The task runner's beat runs
the same job every five minutes (docs/tasks.md); this runs it once, now."""

from django.core.management.base import BaseCommand

from membership.tasks import lapse_memberships


class Command(BaseCommand):
    help = "Record lapsed memberships (grace period over) once each and switch their machines off."

    def handle(self, *args, **options) -> None:
        count = lapse_memberships()
        self.stdout.write(f"{count} membership(s) lapsed.")
