"""Grant location roles in the admin; refused actions are an audit trail, read-only."""

from django.contrib import admin

from staffing.models import LocationRole, RefusedAction


@admin.register(LocationRole)
class LocationRoleAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "location", "granted_by", "granted_at")
    list_filter = ("role", "location")
    search_fields = ("user__email", "user__first_name", "user__last_name")
    autocomplete_fields = ("user",)
    readonly_fields = ("granted_by", "granted_at")

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        form.instance.user.__dict__.pop("_role_scopes", None)


@admin.register(RefusedAction)
class RefusedActionAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "role", "location", "what", "path")
    list_filter = ("role", "location")
    search_fields = ("user__email", "what", "path")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
