from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core.sites import site_from_settings

        # After every migrate (and a test database's creation): settings may have changed.
        post_migrate.connect(
            site_from_settings, sender=self, dispatch_uid="core.site_from_settings"
        )
