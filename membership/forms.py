"""Forms of the membership pages. Each action form carries a one-time token against double submits."""

from __future__ import annotations

from django import forms

from core.forms import OnceForm
from membership.models import LedgerEntry, Material, MembershipStatus


class SignupExtraForm(forms.Form):
    """Fields allauth's sign-up adds to email and password."""

    first_name = forms.CharField(max_length=150, label="First name")
    last_name = forms.CharField(max_length=150, label="Last name")

    def signup(self, request, user) -> None:
        user.first_name = self.cleaned_data["first_name"].strip()
        user.last_name = self.cleaned_data["last_name"].strip()
        user.save(update_fields=["first_name", "last_name"])


class WaiverSignForm(OnceForm):
    signed_name = forms.CharField(max_length=200, label="Type your full name to sign")
    agree = forms.BooleanField(label="I have read the waiver and agree to it")


class MemberSearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, label="Name, email or badge UID")


class BadgeAssignForm(OnceForm):
    uid = forms.CharField(
        max_length=64, label="Badge UID", help_text="Scan the card or type its UID."
    )


class BadgeDisableForm(OnceForm):
    reason = forms.CharField(max_length=200, label="Reason")


class BadgeReplaceForm(OnceForm):
    new_uid = forms.CharField(max_length=64, label="New badge UID")
    reason = forms.CharField(max_length=200, label="Reason", initial="Lost card")


class ManualPaymentForm(OnceForm):
    note = forms.CharField(max_length=500, required=False, label="Note (receipt number, method)")


class MembershipStatusForm(OnceForm):
    status = forms.ChoiceField(choices=MembershipStatus.choices)
    reason = forms.CharField(max_length=500, label="Reason")


class LedgerReverseForm(OnceForm):
    reason = forms.CharField(max_length=400, label="Why is this entry wrong?")


class MaterialSaleForm(OnceForm):
    material = forms.ModelChoiceField(
        queryset=Material.objects.filter(active=True), label="Material"
    )
    quantity = forms.IntegerField(label="Quantity", initial=1)
    method = forms.ChoiceField(
        label="Paid by",
        choices=[
            (LedgerEntry.Method.CASH, "Cash"),
            (LedgerEntry.Method.CREDITS, "Prepaid credits"),
            (LedgerEntry.Method.STRIPE, "Card on file"),
        ],
        initial=LedgerEntry.Method.CASH,
    )
