"""Forms of the gate pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from access.models import AccessSource
from access.selectors import AccessLogFilter
from core.forms import OnceForm
from equipment.models import Machine, MachineState


def _machines_in_use():
    return Machine.objects.exclude(state=MachineState.RETIRED)


class DeviceRegisterForm(OnceForm):
    machine = forms.ModelChoiceField(queryset=_machines_in_use(), label=_("Machine"))
    device_id = forms.SlugField(
        max_length=64,
        label=_("Device id"),
        help_text=_("Letters, digits, '-' and '_', e.g. laser-1."),
    )


class AccessCheckForm(forms.Form):
    machine = forms.ModelChoiceField(queryset=Machine.objects.all(), label=_("Machine"))
    badge_uid = forms.CharField(max_length=64, label=_("Badge UID"))


class GateForm(OnceForm):
    """One of the several forms on a gate's page: its own element ids, the same field names."""

    id_prefix = ""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class GateDisableForm(GateForm):
    id_prefix = "disable"
    reason = forms.CharField(
        max_length=500, label=_("Why"), help_text=_("Kept with the gate, e.g. 'Pi stolen'.")
    )


class GateEnableForm(GateForm):
    id_prefix = "enable"


class GateCredentialsForm(GateForm):
    id_prefix = "credentials"
    reason = forms.CharField(max_length=500, required=False, label=_("Why (optional)"))


class GateMoveForm(GateForm):
    id_prefix = "move"
    machine = forms.ModelChoiceField(queryset=_machines_in_use(), label=_("New machine"))
    reason = forms.CharField(max_length=500, required=False, label=_("Why (optional)"))


class AccessLogFilterForm(forms.Form):
    """The access log's filters, read from the query string."""

    OUTCOMES = {"allowed": True, "refused": False}

    machine = forms.ModelChoiceField(
        queryset=Machine.objects.all(), required=False, label=_("Machine")
    )
    member = forms.CharField(
        max_length=200,
        required=False,
        label=_("Member"),
        help_text=_("Name, email or badge UID."),
    )
    since = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    outcome = forms.ChoiceField(
        required=False,
        label=_("Outcome"),
        choices=[
            ("", _("Allowed and refused")),
            ("allowed", _("Allowed")),
            ("refused", _("Refused")),
        ],
    )
    source = forms.ChoiceField(
        required=False,
        label=_("Source"),
        choices=[("", _("Scans and checks (no allow-list builds)")), *AccessSource.choices],
    )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The start date is after the end date."))
        return cleaned

    def log_filter(self) -> AccessLogFilter:
        """The filter to apply; call after `is_valid()`."""
        data = self.cleaned_data
        return AccessLogFilter(
            machine=data["machine"],
            member=data["member"],
            since=data["since"],
            until=data["until"],
            allowed=self.OUTCOMES.get(data["outcome"]),
            source=data["source"],
        )
