"""Forms of the token and key pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from api.models import Scope
from core.forms import OnceForm

MEMBER_SCOPE_CHOICES = [
    (Scope.READ.value, Scope.READ.label),
    (Scope.BOOKINGS.value, Scope.BOOKINGS.label),
]


class TokenForm(OnceForm):
    name = forms.CharField(
        max_length=100, label=_("Name"), help_text=_("What will use it, e.g. “my calendar script”.")
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=MEMBER_SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=["read"],
    )
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label=_("Expires on"),
        help_text=_("Optional: it stops working at the start of that day."),
    )


class KeyForm(TokenForm):
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=["read"],
    )
    rate_limit_per_minute = forms.IntegerField(
        label=_("Rate limit per minute"), min_value=1, max_value=10_000, initial=60
    )


class RevokeForm(OnceForm):
    pass
