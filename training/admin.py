from django.contrib import admin

from training.models import (
    Certification,
    ClassSeries,
    ClassSession,
    Enrollment,
    MemberCertification,
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
