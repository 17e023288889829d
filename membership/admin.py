from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from membership import services
from membership.models import (
    Badge,
    CreditPack,
    Discount,
    LedgerEntry,
    Material,
    Member,
    Membership,
    MembershipChange,
    Payment,
    Plan,
    StripeEvent,
    StripeRefund,
    User,
    Waiver,
    WaiverSignature,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name"]}),
        ("Roles", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class BadgeInline(admin.TabularInline):
    model = Badge
    fk_name = "member"
    extra = 0
    fields = ["uid", "enabled", "issued_at", "disabled_reason"]
    readonly_fields = ["issued_at"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["display_name", "joined_at"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "badges__uid"]
    inlines = [BadgeInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["member", "plan", "status", "current_period_end"]
    list_filter = ["status", "plan"]


@admin.register(MembershipChange)
class MembershipChangeAdmin(admin.ModelAdmin):
    list_display = ["membership", "from_status", "to_status", "cause", "created_at"]
    list_filter = ["cause", "to_status"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "monthly_price_cents", "currency", "is_default", "all_locations"]
    filter_horizontal = ["locations"]

    def save_model(self, request, obj, form, change) -> None:
        # The service compares what the plan opened before with what it opens now.
        form.opens_all_locations = obj.all_locations
        if change:
            obj.all_locations = Plan.objects.get(pk=obj.pk).all_locations
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        """The locations it opens go through the service: members lose what it stops opening at
        once (their sessions there stop, the gates' lists drop them)."""
        locations = form.cleaned_data.pop("locations", [])
        form.cleaned_data["locations"] = form.instance.locations.all()  # unchanged by the form
        super().save_related(request, form, formsets, change)
        services.plan_locations_set(
            plan=form.instance,
            all_locations=form.opens_all_locations,
            locations=locations,
            actor=request.user,
        )


admin.site.register(Payment)
admin.site.register(Badge)
admin.site.register(Waiver)
admin.site.register(WaiverSignature)


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "type", "event_id", "membership", "outcome"]
    list_filter = ["type", "outcome", "livemode"]
    search_fields = [
        "event_id",
        "membership__stripe_customer_id",
        "membership__member__user__email",
    ]
    readonly_fields = [f.name for f in StripeEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Material)
class MaterialAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "unit",
        "price_minor",
        "currency",
        "stock",
        "low_stock_threshold",
        "active",
    )
    list_editable = ("stock", "active")


@admin.register(CreditPack)
class CreditPackAdmin(admin.ModelAdmin):
    list_display = ("name", "amount_minor", "currency", "active")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Read only: entries are corrected by reversing them on the member's staff page."""

    list_display = (
        "occurred_at",
        "member",
        "kind",
        "method",
        "amount_minor",
        "currency",
        "stripe_object_id",
    )
    list_filter = ("kind", "method", "currency")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Discount)
class DiscountAdmin(LedgerEntryAdmin):
    """Read only: the discounts staff gave at the desk, each beside the entry it reduced."""

    list_display = (
        "created_at",
        "entry",
        "kind",
        "value",
        "discount_minor",
        "reason",
        "granted_by",
    )
    list_filter = ("kind",)
    search_fields = ("reason", "entry__member__user__email")


@admin.register(StripeRefund)
class StripeRefundAdmin(LedgerEntryAdmin):
    """Read only: card refunds Toolgate decided and their way to Stripe; a failed one is tried
    again from the member's staff page."""

    list_display = (
        "created_at",
        "payment",
        "amount_minor",
        "state",
        "attempts",
        "stripe_refund_id",
        "last_error",
    )
    list_filter = ("state",)
    search_fields = ("stripe_refund_id", "payment__stripe_object_id", "idempotency_key")
