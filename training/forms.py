"""Forms of the training pages; each action form carries a one-time token (OnceForm)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import OnceForm
from locations.models import Area, Location
from locations.selectors import is_chain
from membership.forms import DiscountForm
from training.models import Certification, Outcome
from training.scheduling import Frequency


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ActionForm(OnceForm):
    """A button with nothing to fill in: enroll, cancel, request training."""


class FeeCashForm(DiscountForm):
    """Staff took a class fee in cash, perhaps less a discount they give."""


class GuestForm(OnceForm):
    name = forms.CharField(max_length=150, label=_("Guest's full name"))
    email = forms.EmailField(label=_("Guest's email"))
    signed_name = forms.CharField(
        max_length=150, label=_("The guest signs the safety waiver: their full name")
    )


class ReasonForm(OnceForm):
    reason = forms.CharField(max_length=500, label=_("Reason"))


class SessionForm(OnceForm):
    certification = forms.ModelChoiceField(queryset=Certification.objects.all())
    instructor = forms.ModelChoiceField(queryset=get_user_model().objects.none())
    start = forms.DateTimeField(widget=DateTimeLocalInput(), label=_("Starts"))
    end = forms.DateTimeField(widget=DateTimeLocalInput(), label=_("Ends"))
    capacity = forms.IntegerField(min_value=1, max_value=200, initial=6, label=_("Seats"))
    place = forms.CharField(max_length=200, required=False, label=_("Place"))
    # Only in a chain (more than one open location): where the class meets, and its room there.
    location = forms.ModelChoiceField(
        queryset=Location.objects.open(), required=False, label=_("Location")
    )
    area = forms.ModelChoiceField(
        queryset=Area.objects.select_related("location"), required=False, label=_("Area")
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["instructor"].queryset = (
            get_user_model()
            .objects.filter(teachable_certifications__isnull=False)
            .distinct()
            .order_by("first_name", "last_name", "email")
        )
        if is_chain():
            self.fields["location"].required = True
            self.fields["location"].help_text = _("Times are on this location's clock.")
            self.fields["area"].label_from_instance = lambda a: f"{a.location}: {a.name}"
        else:  # one location: the form as it always was
            del self.fields["location"]
            del self.fields["area"]

    def clean(self):
        data = super().clean()
        location = data.get("location")
        if location is not None:
            # Typed on the location's clock, whoever types them: read them again in its zone.
            typed_in = timezone.get_current_timezone()
            for name in ("start", "end"):
                if data.get(name):
                    wall = timezone.make_naive(data[name], typed_in)
                    data[name] = timezone.make_aware(wall, location.zone)
            area = data.get("area")
            if area is not None and area.location_id != location.pk:
                self.add_error(
                    "area",
                    _("%(area)s is not an area of %(location)s.")
                    % {"area": area.name, "location": location},
                )
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("A class must end after it starts."))
        return data


class SeriesForm(SessionForm):
    frequency = forms.ChoiceField(choices=Frequency.CHOICES, label=_("Repeats"))
    until = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label=_("Last date (empty: keeps going)"),
    )


class MoveForm(OnceForm):
    start = forms.DateTimeField(widget=DateTimeLocalInput(), label=_("New start"))
    end = forms.DateTimeField(widget=DateTimeLocalInput(), label=_("New end"))


class SignOffForm(OnceForm):
    email = forms.EmailField(label=_("Member's email"))
    certification = forms.ModelChoiceField(queryset=Certification.objects.none())
    note = forms.CharField(
        max_length=500,
        label=_("Note"),
        help_text=_("How you checked them, e.g. 'Supervised two cuts'."),
    )

    def __init__(self, *args, certifications=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if certifications is not None:
            self.fields["certification"].queryset = certifications


ROSTER_CHOICES = [
    (Outcome.PENDING, "—"),
    (Outcome.ABSENT, _("Absent")),
    (Outcome.FAILED, _("Attended, not passed")),
    (Outcome.PASSED, _("Passed")),
]


# A guest is marked present or absent, never passed: attending certifies nobody.
GUEST_CHOICES = [("", "—"), ("absent", _("Absent")), ("attended", _("Attended"))]
_GUEST_MARK = {"": None, "absent": False, "attended": True}


class RosterForm(OnceForm):
    """One outcome choice per seat, named `outcome_<enrollment id>`, and one attendance choice
    per guest on a member's seat, named `guest_<guest seat id>`, beneath their host."""

    def __init__(self, *args, enrollments, guest_seats=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.enrollments = list(enrollments)
        self.guest_seats = list(guest_seats)
        for enrollment in self.enrollments:
            self.fields[f"outcome_{enrollment.pk}"] = forms.ChoiceField(
                choices=ROSTER_CHOICES,
                initial=enrollment.outcome,
                label=str(enrollment.member),
            )
        for seat in self.guest_seats:
            self.fields[f"guest_{seat.pk}"] = forms.ChoiceField(
                choices=GUEST_CHOICES,
                required=False,
                initial={None: "", False: "absent", True: "attended"}[seat.attended],
                label=_("%(guest)s, guest of %(host)s")
                % {"guest": seat.guest.name, "host": seat.enrollment.member},
            )

    def rows(self):
        """(enrollment, its field, [(guest seat, its field), ...]) in roster order."""
        for enrollment in self.enrollments:
            guests = [
                (seat, self[f"guest_{seat.pk}"])
                for seat in self.guest_seats
                if seat.enrollment_id == enrollment.pk
            ]
            yield enrollment, self[f"outcome_{enrollment.pk}"], guests

    def outcomes(self) -> dict[int, str]:
        return {e.pk: self.cleaned_data[f"outcome_{e.pk}"] for e in self.enrollments}

    def guests_attended(self) -> dict[int, bool | None]:
        return {s.pk: _GUEST_MARK[self.cleaned_data[f"guest_{s.pk}"]] for s in self.guest_seats}
