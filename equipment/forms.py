"""Forms of the machine pages."""

from __future__ import annotations

import re
from functools import reduce
from operator import or_

from django import forms
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from core.forms import OnceForm
from equipment import rules
from equipment.models import Machine, MachineState, Severity
from equipment.rules import WEEKDAY_NAMES
from equipment.services import SETTINGS_FIELDS
from locations.models import Area, Location
from locations.selectors import is_chain
from membership.models import User

# First parts of machine addresses that are pages of their own (/machines/new/, /machines/problems/).
RESERVED_SLUGS = {"new", "problems"}


class MachineStateForm(OnceForm):
    state = forms.ChoiceField(choices=MachineState.choices)
    reason = forms.CharField(max_length=500, required=False, label=_("Reason"))


class ProblemReportForm(OnceForm):
    severity = forms.ChoiceField(
        choices=Severity.choices,
        initial=Severity.MINOR,
        widget=forms.RadioSelect,
        label=_("How bad is it?"),
        help_text=_(
            "Unsafe takes the machine out of service at once, until a maintainer clears it."
        ),
        required=False,
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        label=_("What is wrong?"),
        help_text=_("Staff and the machine's maintainers see this."),
    )

    def clean_severity(self) -> str:
        # Not choosing is a minor report: a report is never lost over a missed radio button.
        return self.cleaned_data["severity"] or Severity.MINOR


class ResolveForm(OnceForm):
    resolution = forms.CharField(max_length=500, required=False, label=_("What was done"))


class BookingRulesChecked(forms.ModelForm):
    """A machine form that names every booking rule members could never book under, at once."""

    def clean(self) -> dict:
        data = super().clean()
        # Rules are judged together only once each value is a valid number on its own.
        if all(data.get(name) is not None for name in rules.BOOKING_RULE_FIELDS):
            problems = rules.booking_rules_problems(
                **{name: data[name] for name in rules.BOOKING_RULE_FIELDS}
            )
            for name, message in problems.items():
                self.add_error(name, message)
        return data


class MachineForm(OnceForm, BookingRulesChecked):
    """A machine's details, who may use it and its booking rules, on the staff page."""

    maintainers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label=_("Maintainers"),
        help_text=_(
            "Email addresses, one per line. Maintainers may switch the machine on without "
            "a booking, change its service state and schedule maintenance."
        ),
    )

    class Meta:
        model = Machine
        fields = SETTINGS_FIELDS
        labels = {
            "area": _("Where it stands"),
            "required_certification": _("Certification needed"),
            "slot_minutes": _("Slot size (minutes)"),
            "min_minutes": _("Shortest booking (minutes)"),
            "max_minutes": _("Longest booking (minutes)"),
            "book_ahead_days": _("Bookings open (days ahead)"),
            "weekly_hours_per_member": _("Hours per member per week"),
            "daily_bookings_per_member": _("Bookings per member per day"),
            "buffer_minutes": _("Buffer after each booking (minutes)"),
        }
        help_texts = {
            "required_certification": _("Members need it to book and to switch the machine on."),
            "slot_minutes": _("Bookings start and end on this grid, counted from midnight."),
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["required_certification"].empty_label = _("None: any member in good standing")
        # Areas of the machine's own location (a new machine's is the default one).
        area_field = self.fields["area"]
        area_field.queryset = Area.objects.filter(location_id=self.instance.location_id)
        area_field.empty_label = _("Not set")
        if self.instance.pk and not self.is_bound:
            self.initial["maintainers"] = "\n".join(
                self.instance.maintainers.order_by("email").values_list("email", flat=True)
            )

    def clean_maintainers(self) -> list[User]:
        emails = {e.lower() for e in re.split(r"[\s,;]+", self.cleaned_data["maintainers"]) if e}
        if not emails:
            return []
        users = list(User.objects.filter(reduce(or_, (Q(email__iexact=e) for e in emails))))
        unknown = emails - {user.email.lower() for user in users}
        if unknown:
            raise forms.ValidationError(
                _("Nobody has the email address %(emails)s.")
                % {"emails": ", ".join(sorted(unknown))}
            )
        return users


class MachineAddForm(MachineForm):
    """A new machine: also its web address, which stays fixed (QR labels print it)."""

    class Meta(MachineForm.Meta):
        fields = ("name", "slug", "location", *SETTINGS_FIELDS[1:])
        labels = {**MachineForm.Meta.labels, "slug": _("Web address")}
        help_texts = {
            **MachineForm.Meta.help_texts,
            "slug": _(
                "The last part of the machine's address, like laser-a. Leave empty to "
                "derive it from the name. It cannot change later: printed QR labels use it."
            ),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        if is_chain():  # where it stands, and a room of any location (checked when saved)
            self.fields["location"].queryset = Location.objects.open()
            self.fields["area"].queryset = Area.objects.select_related("location")
            self.fields["area"].label_from_instance = lambda a: f"{a.location}: {a.name}"
        else:  # one location: the form as it always was
            del self.fields["location"]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"] or slugify(self.cleaned_data.get("name", ""))
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(
                _("“%(slug)s” is used by a page of the site; choose another.") % {"slug": slug}
            )
        return slug


class OpeningHoursForm(OnceForm):
    weekdays = forms.TypedMultipleChoiceField(
        choices=list(enumerate(WEEKDAY_NAMES)),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        label=_("Days"),
    )
    opens = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), label=_("Opens"))
    closes = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}),
        label=_("Closes"),
        help_text=_("00:00 closes at midnight."),
    )


class OpeningRemoveForm(OnceForm):
    opening_id = forms.IntegerField(widget=forms.HiddenInput)
    weekday = forms.TypedChoiceField(
        choices=list(enumerate(WEEKDAY_NAMES)), coerce=int, widget=forms.HiddenInput
    )
