from django.contrib import admin

from webhooks.models import Delivery, DeliveryAttempt, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "payload_format", "is_active", "failing_since"]
    exclude = ["secret", "lease_until", "lease_owner"]


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "status_code", "response_ms", "response_excerpt", "error"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["message_id", "endpoint", "event_type", "state", "attempts", "created_at"]
    list_filter = ["state", "event_type"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [AttemptInline]
