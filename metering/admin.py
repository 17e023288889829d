"""Usage charges in the admin: a log, read only (corrections are ledger reversals)."""

from django.contrib import admin

from equipment.admin import ReadOnlyAdmin
from metering.models import UsageCharge


@admin.register(UsageCharge)
class UsageChargeAdmin(ReadOnlyAdmin):
    list_display = [
        "month",
        "member",
        "machine",
        "grant",
        "seconds",
        "included_seconds",
        "charged_minutes",
        "amount_minor",
        "currency",
        "billing",
        "stripe_invoice_item_id",
    ]
    list_filter = ["month", "machine", "billing", "grant"]
    search_fields = ["member__user__email", "machine__name", "stripe_invoice_item_id"]
    list_select_related = ["member__user", "machine"]
