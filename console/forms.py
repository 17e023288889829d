"""Setup forms: certifications, plans and prices, a new waiver version."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import Q

from core.forms import OnceForm
from membership.models import Plan, User
from training.models import Certification
from training.services import CERTIFICATION_FIELDS


class CertificationForm(OnceForm, forms.ModelForm):
    class Meta:
        model = Certification
        fields = CERTIFICATION_FIELDS
        labels = {
            "validity_months": "Valid for (months)",
            "valid_until": "Valid until (a fixed date)",
            "lapses_after_days_unused": "Lapses after (days without use)",
            "prerequisites": "Needs first",
        }
        help_texts = {
            "validity_months": "Leave all three empty for a certification that never expires. "
            "Each applies to grants made from now on; a grant ends at the earliest.",
            "lapses_after_days_unused": "Counted from the holder's last session on a machine "
            "that needs it (from the gates' usage sessions).",
            "prerequisites": "Members must hold these before a class or a sign-off.",
            "instructors": "Who may teach it and sign members off.",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "valid_until": forms.DateInput(attrs={"type": "date"}),
            "prerequisites": forms.CheckboxSelectMultiple,
            "instructors": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        others = Certification.objects.order_by("name")
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        self.fields["prerequisites"].queryset = others
        teachers = User.objects.filter(
            Q(groups__name__in=["Instructor", "Staff"]) | Q(is_superuser=True)
        )
        if self.instance.pk:
            teachers = teachers | User.objects.filter(teachable_certifications=self.instance)
        self.fields["instructors"].queryset = teachers.distinct().order_by(
            "first_name", "last_name", "email"
        )
        self.fields["instructors"].label_from_instance = lambda user: (
            f"{user.get_full_name() or user.email} ({user.email})"
        )


class PlanForm(OnceForm, forms.ModelForm):
    price = forms.DecimalField(
        min_value=Decimal(0), decimal_places=2, max_digits=9, label="Price per month"
    )

    class Meta:
        model = Plan
        fields = ["name", "currency", "is_default"]
        labels = {"is_default": "New members get this plan"}
        help_texts = {"currency": "Three letters, e.g. usd, eur."}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["price"] = Decimal(self.instance.monthly_price_cents) / 100

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().lower()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError("A currency is three letters, e.g. usd.")
        return currency

    def save(self, commit: bool = False) -> Plan:
        plan = super().save(commit=False)
        plan.monthly_price_cents = int(self.cleaned_data["price"] * 100)
        return plan


class WaiverForm(OnceForm):
    title = forms.CharField(max_length=200)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}), label="Waiver text")


class RoleForm(OnceForm):
    email = forms.EmailField(label="Their email")
    role = forms.ChoiceField(choices=[("Instructor", "Instructor"), ("Staff", "Staff")])
    held = forms.TypedChoiceField(
        choices=[("1", "Give the role"), ("0", "Take it away")],
        coerce=lambda value: value == "1",
        label="Change",
    )

    def clean_email(self) -> User:
        user = User.objects.filter(email__iexact=self.cleaned_data["email"]).first()
        if user is None:
            raise forms.ValidationError("Nobody has an account with that email.")
        return user
