"""Forms of the booking pages. Action forms carry a one-time token against double submits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.forms import OnceForm
from equipment.models import Machine


class InstantField(forms.DateTimeField):
    """A moment carried in a hidden field as ISO 8601 with its UTC offset.

    Django's DateTimeField renders the local wall time without an offset, and the second 01:00
    of the fall-back night then reads back as ambiguous (a 400). With the offset it is one
    instant. Parsing accepts any offset; text without one only when its wall time is unique.
    """

    widget = forms.HiddenInput

    def prepare_value(self, value):
        if isinstance(value, datetime) and timezone.is_aware(value):
            return timezone.localtime(value).isoformat()
        return value


def repeat_choices() -> list[tuple[int, str]]:
    """Called when the form is shown, so the labels are in the language of that request."""
    return [(1, gettext("Just this once"))] + [
        (n, gettext("Every week, %(count)s times") % {"count": n}) for n in range(2, 9)
    ]


class BookingForm(OnceForm):
    start = InstantField()
    minutes = forms.TypedChoiceField(coerce=int, label=_("Length"))
    repeat_weeks = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=1,
        label=_("Repeat"),
        choices=repeat_choices,
        help_text=_(
            "Each week is checked by the same rules; weeks that cannot be booked are listed."
        ),
    )
    also = forms.ModelMultipleChoiceField(
        queryset=Machine.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Book at the same time"),
        help_text=_("All or none: if one cannot be booked, nothing is."),
    )
    member_email = forms.EmailField(
        required=False,
        label=_("For member (email)"),
        help_text=_("Staff: book for this member."),
    )

    def __init__(self, *args, machine, for_staff: bool = False, lengths=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["minutes"].choices = length_choices(machine, lengths)
        # Machines of the same area (a fume extractor next to its laser) can be booked with it.
        if machine.area_id:
            self.fields["also"].queryset = Machine.objects.filter(
                area_id=machine.area_id, state="in_service"
            ).exclude(pk=machine.pk)
        else:
            del self.fields["also"]
        if not for_staff:
            del self.fields["member_email"]


def length_choices(machine: Machine, lengths: Iterable[int] | None) -> list[tuple[int, str]]:
    """The form offers the lengths that fit (`bookings.outlook.booking_lengths`, `wait_lengths`);
    a post may carry any length of the machine's range, and the service judges it."""
    if lengths is None:
        lengths = range(machine.min_minutes, machine.max_minutes + 1, machine.slot_minutes)
    return [(m, length_label(m)) for m in lengths]


def length_label(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return gettext("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest}
    if hours:
        return gettext("%(hours)s h") % {"hours": hours}
    return gettext("%(minutes)s min") % {"minutes": rest}


class CancelForm(OnceForm):
    reason = forms.CharField(max_length=500, required=False, label=_("Reason (optional)"))


class HandOverForm(OnceForm):
    email = forms.EmailField(label=_("Member's email"))


class ExtendForm(OnceForm):
    minutes = forms.IntegerField(min_value=1, max_value=24 * 60, label=_("Extend by (minutes)"))


class MaintenanceForm(OnceForm):
    start = forms.DateTimeField(
        label=_("Start"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    end = forms.DateTimeField(
        label=_("End"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(max_length=200, label=_("Reason"))
    repeat_weekly_until = forms.DateTimeField(
        required=False,
        label=_("Repeat weekly until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty for a one-off window."),
    )


class SessionMachinesForm(OnceForm):
    machines = forms.ModelMultipleChoiceField(
        queryset=Machine.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label=_("Machines to hold for this class"),
    )

    def __init__(self, *args, choices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["machines"].queryset = Machine.objects.filter(
            pk__in=[choice.machine.pk for choice in choices if not choice.held]
        )


class WaitForm(OnceForm):
    """Join the waitlist from a taken slot: the time wanted, from its start, for a length."""

    start = InstantField()
    minutes = forms.TypedChoiceField(coerce=int, label=_("Length"))

    def __init__(self, *args, machine, lengths=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["minutes"].choices = length_choices(machine, lengths)
