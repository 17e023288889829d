from django.contrib import admin

from training import services
from training.models import (
    Certification,
    ClassSeries,
    ClassSession,
    Enrollment,
    LocalCheckout,
    MemberCertification,
    MemberCheckout,
    TrainingRequest,
)


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ["name", "validity_months"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["prerequisites", "instructors"]


@admin.register(ClassSeries)
class ClassSeriesAdmin(admin.ModelAdmin):
    list_display = ["certification", "instructor", "event", "capacity", "place"]


@admin.register(ClassSession)
class ClassSessionAdmin(admin.ModelAdmin):
    list_display = ["certification", "start", "instructor", "capacity", "cancelled_at"]
    list_filter = ["certification"]
    date_hierarchy = "start"


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["member", "session", "status", "outcome", "created_at"]
    list_filter = ["status", "outcome"]


@admin.register(MemberCertification)
class MemberCertificationAdmin(admin.ModelAdmin):
    list_display = ["member", "certification", "granted_at", "expires_at", "revoked_at"]
    list_filter = ["certification"]


@admin.register(TrainingRequest)
class TrainingRequestAdmin(admin.ModelAdmin):
    list_display = ["member", "certification", "created_at", "fulfilled_at"]


@admin.register(LocalCheckout)
class LocalCheckoutAdmin(admin.ModelAdmin):
    """Named local sign-offs (docs/locations.md): a machine may require one of its location."""

    list_display = ["name", "location"]
    list_filter = ["location"]
    search_fields = ["name"]


@admin.register(MemberCheckout)
class MemberCheckoutAdmin(admin.ModelAdmin):
    list_display = ["member", "checkout", "granted_by", "granted_at", "revoked_at"]
    list_filter = ["checkout__location", "checkout"]
    search_fields = ["member__user__email", "member__user__last_name"]
    autocomplete_fields = ["member"]
    fields = ["member", "checkout", "note", "revoke_reason"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # history: revoke instead

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return ["member", "checkout", "note"] if obj else []

    def save_model(self, request, obj, form, change) -> None:
        """Through the services, so the gates are told; a revoke reason revokes."""
        if not change:
            saved = services.checkout_grant(
                member=obj.member, checkout=obj.checkout, actor=request.user, note=obj.note
            )
            obj.pk = saved.pk
        elif obj.revoke_reason and obj.revoked_at is None:
            services.checkout_revoke(grant=obj, reason=obj.revoke_reason, actor=request.user)
