"""Compare memberships and the ledger with Stripe and repair drift (for missed webhooks).
The task runner's beat runs the same job nightly (docs/tasks.md); this runs it once, now."""

from django.core.management.base import BaseCommand, CommandError

from membership.billing.client import BillingUnavailable
from membership.tasks import reconcile_billing


class Command(BaseCommand):
    help = (
        "Compare memberships with Stripe subscriptions, and the ledger's card payments, refunds "
        "and invoice items with Stripe's; fix drift. --dry-run only reports."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Report the drift, change nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        try:
            drifts = reconcile_billing(dry_run=dry_run)
        except BillingUnavailable as error:
            raise CommandError(error.message) from error
        if drifts is None:
            self.stdout.write("Manual billing mode (no STRIPE_SECRET_KEY): nothing to reconcile.")
            return
        for line in drifts:
            self.stdout.write(line)
