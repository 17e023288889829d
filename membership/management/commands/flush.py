"""Django's `flush`, letting SQLite's ledger trigger allow the deletes while the database empties.

Everything else is Django's own command (membership/billing/immutable.py says why).
"""

from django.core.management.commands import flush

from membership.billing.immutable import flushing


class Command(flush.Command):
    def handle(self, **options):
        with flushing():
            return super().handle(**options)
