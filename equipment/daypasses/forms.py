"""The forms of day passes: a member buys one online, staff sell one at the desk."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.forms import OnceForm
from equipment.daypasses.models import DayPassProduct
from membership.billing.models import LedgerEntry
from membership.forms import DiscountForm


class DayPassBuyForm(OnceForm):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))


class DayPassSellForm(DiscountForm):
    product = forms.ModelChoiceField(
        queryset=DayPassProduct.objects.filter(active=True), label=_("Day pass")
    )
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(
        label=pgettext_lazy("payment method", "Paid by"),
        choices=[
            (LedgerEntry.Method.CASH, _("Cash")),
            (LedgerEntry.Method.CREDITS, _("Prepaid credits")),
            (LedgerEntry.Method.STRIPE, _("Card on file")),
        ],
        initial=LedgerEntry.Method.CASH,
    )


class DayPassCancelForm(OnceForm):
    reason = forms.CharField(label=_("Why"), max_length=300)
    refund = forms.BooleanField(label=_("Refund what was paid"), required=False)
