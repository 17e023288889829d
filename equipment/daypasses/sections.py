"""The day pass sections of the member's billing page and of their staff page."""

from __future__ import annotations

from equipment.daypasses.forms import DayPassBuyForm, DayPassCancelForm, DayPassSellForm
from equipment.daypasses.selectors import day_pass_products_on_sale, member_day_passes
from membership.billing.sections import BillingSection
from membership.models import Member


def billing_day_pass_section(member: Member) -> BillingSection | None:
    """The passes the member holds, and the ones on sale (bought online in Stripe mode)."""
    products = list(day_pass_products_on_sale())
    passes = list(member_day_passes(member)[:20])
    if not products and not passes:
        return None
    return BillingSection(
        "equipment/day_passes_billing.html",
        {"products": [(p, DayPassBuyForm()) for p in products], "passes": passes},
    )


def staff_day_pass_section(member: Member) -> BillingSection | None:
    """Selling a pass at the desk, and the member's passes."""
    if not day_pass_products_on_sale().exists():
        return None
    return BillingSection(
        "equipment/day_passes_staff.html",
        {
            "form": DayPassSellForm(),
            "passes": [(p, DayPassCancelForm()) for p in member_day_passes(member)[:20]],
        },
    )
