"""Forms of the machine pages."""

from __future__ import annotations

from django import forms

from equipment.models import MachineState
from membership.forms import OnceForm


class MachineStateForm(OnceForm):
    state = forms.ChoiceField(choices=MachineState.choices)
    reason = forms.CharField(max_length=500, required=False, label="Reason")


class ProblemReportForm(OnceForm):
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        label="What is wrong?",
        help_text="Staff and the machine's maintainers see this.",
    )


class ResolveForm(OnceForm):
    resolution = forms.CharField(max_length=500, required=False, label="What was done")
