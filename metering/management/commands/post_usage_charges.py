"""Run beat's post-usage-charges job once, now."""

from django.core.management.base import BaseCommand

from metering.tasks import post_usage_charges


class Command(BaseCommand):
    help = (
        "Charge the machine time of months that are over (idempotent), then Stripe invoice items."
    )

    def handle(self, *args, **options) -> None:
        done = post_usage_charges()
        self.stdout.write(
            f"{done['charged']} session part(s) charged, {done['invoice_items']} invoice item(s)."
        )
