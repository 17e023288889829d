"""The forms of day passes: a member buys one online, staff sell one at the desk."""

from __future__ import annotations

from django import forms

from core.forms import OnceForm
from equipment.daypasses.models import DayPassProduct
from membership.billing.models import LedgerEntry
from membership.forms import DiscountForm


class DayPassBuyForm(OnceForm):
    day = forms.DateField(label="Day", widget=forms.DateInput(attrs={"type": "date"}))


class DayPassSellForm(DiscountForm):
    product = forms.ModelChoiceField(
        queryset=DayPassProduct.objects.filter(active=True), label="Day pass"
    )
    day = forms.DateField(label="Day", widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(
        label="Paid by",
        choices=[
            (LedgerEntry.Method.CASH, "Cash"),
            (LedgerEntry.Method.CREDITS, "Prepaid credits"),
            (LedgerEntry.Method.STRIPE, "Card on file"),
        ],
        initial=LedgerEntry.Method.CASH,
    )


class DayPassCancelForm(OnceForm):
    reason = forms.CharField(label="Why", max_length=300)
    refund = forms.BooleanField(label="Refund what was paid", required=False)
