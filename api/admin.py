"""Django admin for the API: look-ups only. Credentials are made and revoked on their pages
(/api/tokens/, /api/keys/); API writes are an audit trail. No digest shown."""

from django.contrib import admin

from api.models import ApiCredential, ApiWrite
from equipment.admin import ReadOnlyAdmin


@admin.register(ApiCredential)
class ApiCredentialAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "prefix", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["kind"]
    search_fields = ["name", "prefix", "user__email"]
    exclude = ["digest"]
    list_select_related = ["user"]


@admin.register(ApiWrite)
class ApiWriteAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "reason", "object_type", "object_id", "credential", "actor"]
    list_filter = ["object_type"]
    search_fields = ["credential__prefix", "actor__email", "object_id"]
    date_hierarchy = "created_at"
    list_select_related = ["credential", "actor"]
