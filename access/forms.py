"""Forms of the gate pages."""

from django import forms

from equipment.models import Machine
from membership.forms import OnceForm


class DeviceRegisterForm(OnceForm):
    machine = forms.ModelChoiceField(queryset=Machine.objects.exclude(state="retired"))
    device_id = forms.SlugField(
        max_length=64, label="Device id", help_text="Letters, digits, '-' and '_', e.g. laser-1."
    )


class AccessCheckForm(forms.Form):
    machine = forms.ModelChoiceField(queryset=Machine.objects.all())
    badge_uid = forms.CharField(max_length=64, label="Badge UID")
