"""Django admin for machines: look-ups and repairs. Day-to-day setup has its staff pages; both save
a machine through `services.machine_save`, so rules are checked and gates told either way. The
history models are read-only."""

import copy

from django.contrib import admin
from django.forms.models import construct_instance
from django.urls import reverse
from django.utils.translation import gettext as _

from equipment import services
from equipment.forms import BookingRulesChecked
from equipment.models import (
    DayPass,
    DayPassProduct,
    IncludedHours,
    Machine,
    MachineEvent,
    MachineRate,
    MachineStateChange,
    ProblemReport,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A log: visible, never added to or changed by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class MachineEventInline(admin.TabularInline):
    model = MachineEvent
    extra = 0
    fields = ["kind", "event", "reason", "created_by", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class MachineRateInline(admin.StackedInline):
    """Metered machine time (docs/billing.md): none means the machine is not metered."""

    model = MachineRate
    extra = 0
    max_num = 1
    verbose_name = "metered rate"


class IncludedHoursInline(admin.TabularInline):
    model = IncludedHours
    extra = 0
    verbose_name = "hours a month included in a plan"
    verbose_name_plural = "hours a month included in plans"


class MachineAdminForm(BookingRulesChecked):
    """The admin has no dry run to show: a change that breaks bookings to come is sent to the
    machine's edit page, which lists them and asks before cancelling any."""

    def clean(self) -> dict:
        data = super().clean()
        if self.instance.pk and not self.errors:
            edited = construct_instance(self, copy.copy(self.instance))
            consequences = services.machine_change_consequences(machine=edited)
            if consequences is not None and consequences.affected:
                url = reverse("equipment:machine_edit", args=[self.instance.slug])
                self.add_error(
                    None,
                    _(
                        "This change affects %(count)s booking(s) to come: make it on the "
                        "machine's edit page (%(url)s), which lists them before saving."
                    )
                    % {"count": len(consequences.affected), "url": url},
                )
        return data


@admin.register(Machine)
class MachineAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "location",
        "area",
        "state",
        "required_certification",
        "slot_minutes",
        "min_minutes",
        "max_minutes",
        "book_ahead_days",
    ]
    list_filter = ["state", "location", "area", "required_certification"]
    search_fields = ["name", "slug", "area__name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["maintainers"]
    form = MachineAdminForm
    # State changes have their own logged action (gates switch off); class sessions are held from
    # the class page (overlapping bookings are cancelled); the address is printed on QR labels.
    readonly_fields = ["state", "state_reason", "calendar", "class_sessions"]
    inlines = [MachineRateInline, IncludedHoursInline, MachineEventInline]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        # A machine moves to another location through its own action (bookings are checked).
        return [*self.readonly_fields, "slug", "location"] if obj else self.readonly_fields

    def get_prepopulated_fields(self, request, obj=None) -> dict:
        return {} if obj else self.prepopulated_fields

    def save_model(self, request, obj, form, change) -> None:
        services.machine_save(
            machine=obj, maintainers=form.cleaned_data["maintainers"], actor=request.user
        )


@admin.register(MachineEvent)
class MachineEventAdmin(ReadOnlyAdmin):
    list_display = ["machine", "kind", "event", "reason", "created_by", "created_at"]
    list_filter = ["kind", "machine"]
    search_fields = ["machine__name", "reason"]
    list_select_related = ["machine", "event", "created_by"]


@admin.register(MachineStateChange)
class MachineStateChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "machine", "from_state", "to_state", "reason", "actor"]
    list_filter = ["to_state", "machine"]
    search_fields = ["machine__name", "reason", "actor__email"]
    date_hierarchy = "created_at"
    list_select_related = ["machine", "actor"]


@admin.register(ProblemReport)
class ProblemReportAdmin(admin.ModelAdmin):
    list_display = ["created_at", "machine", "reporter", "short_description", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "machine"]
    search_fields = ["machine__name", "description", "reporter__email", "resolution"]
    date_hierarchy = "created_at"
    list_select_related = ["machine", "reporter"]
    readonly_fields = ["machine", "reporter", "description", "created_at"]

    def has_add_permission(self, request) -> bool:
        # Members report problems on the machine's page (services.problem_report_create); here
        # the machine, reporter and description are read-only, so an added report had none.
        return False

    @admin.display(description="Description")
    def short_description(self, obj: ProblemReport) -> str:
        return obj.description[:80]


@admin.register(DayPassProduct)
class DayPassProductAdmin(admin.ModelAdmin):
    """Day passes staff sell (docs/billing.md, "Day passes"): what one opens, where, for how much."""

    list_display = ["name", "price_minor", "currency", "active"]
    list_filter = ["active", "locations"]
    search_fields = ["name", "description"]
    filter_horizontal = ["machines", "certifications", "locations"]


@admin.register(DayPass)
class DayPassAdmin(ReadOnlyAdmin):
    """Passes are sold at the desk or through Checkout, each paid by a ledger entry: a log here."""

    list_display = ["day", "product", "holder", "state", "method", "price_minor", "currency"]
    list_filter = ["state", "method", "product"]
    search_fields = ["product__name", "holder__user__email", "holder__user__last_name"]
    date_hierarchy = "day"
    list_select_related = ["product", "holder__user"]
