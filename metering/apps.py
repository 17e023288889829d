from django.apps import AppConfig


class MeteringConfig(AppConfig):
    name = "metering"
    verbose_name = "Metered machine time"

    def ready(self) -> None:
        from membership.billing import invoices, reconcile_money, sections
        from metering import reconcile, selectors, services

        sections.billing_section_register(selectors.billing_usage_section)
        invoices.invoice_lines_handler_register(
            services.INVOICE_KIND, services.usage_invoice_settle
        )
        reconcile_money.money_check_register(reconcile.usage_items_reconcile)
