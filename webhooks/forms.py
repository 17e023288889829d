"""Forms of the webhook pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import OnceForm
from webhooks.events import EventType
from webhooks.models import PayloadFormat


class EndpointForm(OnceForm):
    name = forms.CharField(max_length=100, help_text=_("What receives it, e.g. 'CRM' or '#laser'."))
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_(
            "HTTPS, on a public address. Slack and Discord incoming webhook URLs work "
            "with the chat message format."
        ),
    )
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices, widget=forms.CheckboxSelectMultiple, label=_("Events")
    )
    payload_format = forms.ChoiceField(
        choices=PayloadFormat.choices, initial=PayloadFormat.STANDARD, label=_("Format")
    )


class EndpointDisableForm(OnceForm):
    reason = forms.CharField(max_length=500, required=False, label=_("Why (optional)"))


class EndpointActionForm(OnceForm):
    """A button: send a test event, enable, new secret, delete."""
