from django.apps import AppConfig


class StaffingConfig(AppConfig):
    name = "staffing"
    verbose_name = "Staff at each location"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from staffing import permissions

        permissions.register()
