"""Record memberships whose grace period ran out and tell the gate; run it every few minutes."""

from django.core.management.base import BaseCommand

from membership.billing.lapse import memberships_lapse


class Command(BaseCommand):
    help = "Record lapsed memberships (grace period over) once each and switch their machines off."

    def handle(self, *args, **options) -> None:
        count = memberships_lapse()
        self.stdout.write(f"{count} membership(s) lapsed.")
