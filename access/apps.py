from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        from access import receivers

        receivers.connect()
        post_migrate.connect(receivers.grant_gate_permissions, sender=self)
