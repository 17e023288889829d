"""Setup forms: certifications, plans and prices, a new waiver version."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core.forms import OnceForm
from core.money import CurrencyError, from_minor, to_minor
from equipment.models import Machine, MachineState
from locations.models import Area, Location
from membership.models import Plan, User
from training.models import Certification, ClassSeries
from training.rules import WEEKDAY_NAMES
from training.scheduling import Frequency
from training.services import CERTIFICATION_FIELDS


def _teachers() -> QuerySet[User]:
    """Who may be made an instructor: instructors, staff and administrators."""
    return User.objects.filter(Q(groups__name__in=["Instructor", "Staff"]) | Q(is_superuser=True))


def _person(user: User) -> str:
    return f"{user.get_full_name() or user.email} ({user.email})"


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
        teachers = _teachers()
        if self.instance.pk:
            teachers = teachers | User.objects.filter(teachable_certifications=self.instance)
        self.fields["instructors"].queryset = teachers.distinct().order_by(
            "first_name", "last_name", "email"
        )
        self.fields["instructors"].label_from_instance = _person


class PlanForm(OnceForm, forms.ModelForm):
    price = forms.DecimalField(
        min_value=Decimal(0), decimal_places=2, max_digits=9, label=_("Price per month")
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
            raise forms.ValidationError(_("A currency is three letters, e.g. usd."))
        return currency

    def save(self, commit: bool = False) -> Plan:
        plan = super().save(commit=False)
        plan.monthly_price_cents = int(self.cleaned_data["price"] * 100)
        return plan


class WaiverForm(OnceForm):
    title = forms.CharField(max_length=200)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}), label=_("Waiver text"))


class RoleForm(OnceForm):
    email = forms.EmailField(label=_("Their email"))
    role = forms.ChoiceField(choices=[("Instructor", "Instructor"), ("Staff", "Staff")])
    held = forms.TypedChoiceField(
        choices=[("1", "Give the role"), ("0", "Take it away")],
        coerce=lambda value: value == "1",
        label=_("Change"),
    )

    def clean_email(self) -> User:
        user = User.objects.filter(email__iexact=self.cleaned_data["email"]).first()
        if user is None:
            raise forms.ValidationError(_("Nobody has an account with that email."))
        return user


class SeriesForm(OnceForm):
    """A recurring class in Setup: what, where, who, when (on the location's wall clock), how
    many seats and at what price. Editing one changes it from a date on; its certification and
    location stay (another class is another series)."""

    certification = forms.ModelChoiceField(queryset=Certification.objects.order_by("name"))
    location = forms.ModelChoiceField(queryset=Location.objects.none())
    area = forms.ModelChoiceField(
        queryset=Area.objects.none(), required=False, help_text=_("A room of the location.")
    )
    instructor = forms.ModelChoiceField(queryset=User.objects.none())
    frequency = forms.ChoiceField(choices=Frequency.CHOICES, label=_("Repeats"))
    weekdays = forms.TypedMultipleChoiceField(
        choices=list(enumerate(WEEKDAY_NAMES)),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("On"),
        help_text=_(
            "Every week only: one or more days. Every two weeks and every month repeat "
            "on the first class's day."
        ),
    )
    first_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        label=_("Starts at"),
        help_text=_("On the location's clock, also across daylight-saving changes."),
    )
    minutes = forms.IntegerField(
        min_value=5, max_value=24 * 60, initial=120, label=_("Length (min)")
    )
    until = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label=_("Last date"),
        help_text=_("Or a number of classes below; neither: it keeps going."),
    )
    count = forms.IntegerField(
        required=False, min_value=1, max_value=500, label=_("Number of classes")
    )
    capacity = forms.IntegerField(min_value=1, max_value=500, initial=6, label=_("Seats"))
    price = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_digits=9,
        decimal_places=2,
        label=_("Price per seat"),
        help_text=_("Empty: the certification's class fee. 0: free."),
    )
    place = forms.CharField(max_length=200, required=False)
    machines = forms.ModelMultipleChoiceField(
        queryset=Machine.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Machines held"),
        help_text=_(
            "Each class holds them: bookings in the way are cancelled and their members emailed."
        ),
    )

    def __init__(
        self, *args, locations: QuerySet[Location], series: ClassSeries | None = None, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.series = series
        self.fields["location"].queryset = locations.order_by("name")
        self.fields["area"].queryset = Area.objects.filter(location__in=locations).order_by(
            "location__name", "name"
        )
        self.fields["instructor"].queryset = _teachers().distinct().order_by("first_name", "email")
        self.fields["instructor"].label_from_instance = _person
        self.fields["machines"].queryset = (
            Machine.objects.filter(location__in=locations)
            .exclude(state=MachineState.RETIRED)
            .order_by("name")
        )
        if series is not None:
            here = Location.objects.filter(pk=series.location_id)
            self.fields["area"].queryset = Area.objects.filter(location__in=here).order_by("name")
            self.fields["machines"].queryset = self.fields["machines"].queryset.filter(
                location__in=here
            )
            for name in ("certification", "location"):
                self.fields[name].disabled = True
            self.fields["first_date"].label = "Changes apply from"
            self.fields["first_date"].help_text = (
                "Classes from this day on follow the new schedule; those with members enrolled "
                "stay as booked and their members are emailed."
            )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("until") and data.get("count"):
            self.add_error("count", "Give a last date or a number of classes, not both.")
        if data.get("frequency") == Frequency.WEEKLY and not data.get("weekdays"):
            self.add_error("weekdays", "Choose the day(s) of the week it meets.")
        area, location = data.get("area"), data.get("location")
        if area is not None and location is not None and area.location_id != location.pk:
            self.add_error("area", f"{area} is not an area of {location}.")
        machines, certification = data.get("machines") or [], data.get("certification")
        if location is not None:
            elsewhere = [m for m in machines if m.location_id != location.pk]
            if elsewhere:
                self.add_error("machines", f"{elsewhere[0]} is not at {location}.")
        if certification is not None and data.get("price") is not None:
            currency = certification.class_fee_currency
            try:
                data["fee_minor"] = to_minor(data["price"], currency)
            except CurrencyError as error:
                self.add_error("price", str(error))
        else:
            data["fee_minor"] = None
        return data

    @classmethod
    def initial_for(
        cls,
        series: ClassSeries,
        *,
        weekdays: list[int],
        frequency: str,
        start: datetime,
        last: date | None,
        today: date,
    ) -> dict:
        """The form for changing `series` from `today`, its first class starting at `start`
        and its last on `last` (both on the location's clock)."""
        event = series.event
        return {
            "certification": series.certification,
            "location": series.location,
            "area": series.area,
            "instructor": series.instructor,
            "frequency": frequency,
            "weekdays": weekdays,
            "first_date": today,
            "at": start.strftime("%H:%M"),
            "minutes": int((event.end - event.start).total_seconds() // 60),
            "until": last,
            "capacity": series.capacity,
            "price": None
            if series.fee_minor is None
            else from_minor(series.fee_minor, series.certification.class_fee_currency),
            "place": series.place,
            "machines": list(series.machines.all()),  # type: ignore[attr-defined]
        }
