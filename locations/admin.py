"""Django admin for the chain's locations and their areas. A location with history is archived
(an action here), never deleted: deleting goes through `services.location_delete`, which
refuses and says so."""

from django.contrib import admin, messages

from core.errors import DomainError
from locations import services
from locations.models import Area, Location


class AreaInline(admin.TabularInline):
    model = Area
    extra = 0
    fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    can_delete = False


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "contact_email", "archived_at"]
    list_filter = ["time_zone", "archived_at"]
    search_fields = ["name", "slug", "address"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["archived_at", "calendar", "created_at"]
    inlines = [AreaInline]
    actions = ["archive"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        # Printed links and gate configuration name a location by its slug.
        return [*self.readonly_fields, "slug"] if obj else self.readonly_fields

    def get_prepopulated_fields(self, request, obj=None) -> dict:
        return {} if obj else self.prepopulated_fields

    @admin.action(description="Archive the selected locations (their history stays)")
    def archive(self, request, queryset) -> None:
        for location in queryset:
            try:
                services.location_archive(location=location)
            except DomainError as refused:
                self.message_user(request, refused.message, messages.ERROR)
            else:
                self.message_user(request, f"{location.name} archived.", messages.SUCCESS)

    def delete_model(self, request, obj) -> None:
        services.location_delete(location=obj)

    def delete_queryset(self, request, queryset) -> None:
        for location in queryset:
            services.location_delete(location=location)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as refused:
            self.message_user(request, refused.message, messages.ERROR)
            from django.shortcuts import redirect

            return redirect("admin:locations_location_change", object_id)
