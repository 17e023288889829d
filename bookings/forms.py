"""Forms of the booking pages. Action forms carry a one-time token against double submits."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.utils import timezone

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


class BookingForm(OnceForm):
    start = InstantField()
    minutes = forms.TypedChoiceField(coerce=int, label="Length")
    repeat_weeks = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=1,
        label="Repeat",
        choices=[(1, "Just this once")] + [(n, f"Every week, {n} times") for n in range(2, 9)],
        help_text="Each week is checked by the same rules; weeks that cannot be booked are listed.",
    )
    also = forms.ModelMultipleChoiceField(
        queryset=Machine.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Book at the same time",
        help_text="All or none: if one cannot be booked, nothing is.",
    )
    member_email = forms.EmailField(
        required=False, label="For member (email)", help_text="Staff: book for this member."
    )

    def __init__(self, *args, machine, for_staff: bool = False, lengths=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The form offers the lengths that fit (`bookings.outlook.booking_lengths`); a post may
        # carry any length of the machine's range, and the booking service judges it.
        if lengths is None:
            lengths = range(machine.min_minutes, machine.max_minutes + 1, machine.slot_minutes)
        self.fields["minutes"].choices = [(m, length_label(m)) for m in lengths]
        # Machines of the same area (a fume extractor next to its laser) can be booked with it.
        if machine.area_id:
            self.fields["also"].queryset = Machine.objects.filter(
                area_id=machine.area_id, state="in_service"
            ).exclude(pk=machine.pk)
        else:
            del self.fields["also"]
        if not for_staff:
            del self.fields["member_email"]


def length_label(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


class CancelForm(OnceForm):
    reason = forms.CharField(max_length=500, required=False, label="Reason (optional)")


class HandOverForm(OnceForm):
    email = forms.EmailField(label="Member's email")


class ExtendForm(OnceForm):
    minutes = forms.IntegerField(min_value=1, max_value=24 * 60, label="Extend by (minutes)")


class MaintenanceForm(OnceForm):
    start = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(max_length=200)
    repeat_weekly_until = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for a one-off window.",
    )


class SessionMachinesForm(OnceForm):
    machines = forms.ModelMultipleChoiceField(
        queryset=Machine.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Machines to hold for this class",
    )

    def __init__(self, *args, choices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["machines"].queryset = Machine.objects.filter(
            pk__in=[choice.machine.pk for choice in choices if not choice.held]
        )


class WaitForm(OnceForm):
    """Join the waitlist for a taken span of a machine."""

    start = InstantField()
    end = InstantField()
