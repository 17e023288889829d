"""Forms of the membership pages. Each action form carries a one-time token against double submits."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.forms import OnceForm
from core.money import CurrencyError, to_minor
from membership.billing.discounts import DiscountAsked
from membership.billing.ledger import LedgerRefused
from membership.models import Discount, LedgerEntry, Material, MembershipStatus


class SignupExtraForm(forms.Form):
    """Fields allauth's sign-up adds to email and password."""

    first_name = forms.CharField(max_length=150, label=_("First name"))
    last_name = forms.CharField(max_length=150, label=_("Last name"))
    phone = forms.CharField(max_length=40, required=False, label=_("Phone"))
    emergency_contact = forms.CharField(
        max_length=200,
        required=False,
        label=_("Emergency contact"),
        help_text=_("Name and phone of someone to call if you are hurt at the space."),
    )

    def signup(self, request, user) -> None:
        from membership.services import member_get_or_create, member_profile_update

        member_profile_update(
            member=member_get_or_create(user=user),
            # The language they signed up in is the one their emails are written in.
            language=translation.get_language(),
            **{name: self.cleaned_data.get(name, "") for name in PROFILE_FIELDS},
        )


PROFILE_FIELDS = ("first_name", "last_name", "phone", "emergency_contact")


class ProfileForm(OnceForm):
    first_name = forms.CharField(max_length=150, label=_("First name"))
    last_name = forms.CharField(max_length=150, label=_("Last name"))
    phone = forms.CharField(max_length=40, required=False, label=_("Phone"))
    emergency_contact = SignupExtraForm.base_fields["emergency_contact"]
    language = forms.ChoiceField(
        choices=settings.LANGUAGES,
        label=_("Language"),
        help_text=_("The site on a new device and the space's emails to you are in it."),
    )


class WaiverSignForm(OnceForm):
    signed_name = forms.CharField(max_length=200, label=_("Type your full name to sign"))
    agree = forms.BooleanField(label=_("I have read the waiver and agree to it"))


class MemberSearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, label=_("Name, email or badge UID"))


class BadgeAssignForm(OnceForm):
    uid = forms.CharField(
        max_length=64, label=_("Badge UID"), help_text=_("Scan the card or type its UID.")
    )


class BadgeDisableForm(OnceForm):
    reason = forms.CharField(max_length=200, label=_("Reason"))


class BadgeReplaceForm(OnceForm):
    new_uid = forms.CharField(max_length=64, label=_("New badge UID"))
    reason = forms.CharField(max_length=200, label=_("Reason"), initial=_("Lost card"))


class ManualPaymentForm(OnceForm):
    note = forms.CharField(max_length=500, required=False, label=_("Note (receipt number, method)"))


class MembershipStatusForm(OnceForm):
    status = forms.ChoiceField(choices=MembershipStatus.choices)
    reason = forms.CharField(max_length=500, label=_("Reason"))


class LedgerReverseForm(OnceForm):
    reason = forms.CharField(max_length=400, label=_("Why is this entry wrong?"))


class RefundRetryForm(OnceForm):
    """Try a failed card refund again (the token alone: one press, one retry)."""


class DiscountForm(OnceForm):
    """A payment taken at the desk, with an optional staff-set discount: a percent or an amount
    off (in the currency's usual units, 5.00), and why."""

    discount_kind = forms.ChoiceField(
        label=_("Discount"),
        required=False,
        choices=[
            ("", _("None")),
            (Discount.Kind.PERCENT, _("Percent off")),
            (Discount.Kind.FIXED, _("Amount off")),
        ],
    )
    discount_value = forms.CharField(
        label=_("Percent or amount off"), required=False, max_length=20
    )
    discount_reason = forms.CharField(label=_("Why the discount"), required=False, max_length=300)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("discount_kind") and not (data.get("discount_value") or "").strip():
            self.add_error("discount_value", _("Say how much comes off."))
        if data.get("discount_kind") and not (data.get("discount_reason") or "").strip():
            self.add_error("discount_reason", _("Say why; the reason is kept in the ledger."))
        return data

    def discount(self, currency: str) -> DiscountAsked | None:
        """The discount asked for in `currency`, or None; an amount that is not one is refused."""
        kind = self.cleaned_data.get("discount_kind")
        if not kind:
            return None
        raw = self.cleaned_data["discount_value"].strip().rstrip("%").strip()
        try:
            value = int(raw) if kind == Discount.Kind.PERCENT else to_minor(raw, currency)
        except (ValueError, CurrencyError):
            raise LedgerRefused(
                _("%(raw)s is not a discount in %(value)s.")
                % {"raw": repr(raw), "value": currency.upper()}
            ) from None
        return DiscountAsked(kind=kind, value=value, reason=self.cleaned_data["discount_reason"])


class MaterialSaleForm(DiscountForm):
    material = forms.ModelChoiceField(
        queryset=Material.objects.filter(active=True), label=_("Material")
    )
    quantity = forms.IntegerField(label=_("Quantity"), initial=1)
    method = forms.ChoiceField(
        label=_("Paid by"),
        choices=[
            (LedgerEntry.Method.CASH, _("Cash")),
            (LedgerEntry.Method.CREDITS, _("Prepaid credits")),
            (LedgerEntry.Method.STRIPE, _("Card on file")),
        ],
        initial=LedgerEntry.Method.CASH,
    )
