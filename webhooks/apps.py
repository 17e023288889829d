from django.apps import AppConfig
from django.db.models.signals import post_migrate


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from core import events
        from webhooks.services import SiteEvents

        events.install(SiteEvents())
        post_migrate.connect(grant_webhook_permissions, sender=self)


def grant_webhook_permissions(**kwargs) -> None:
    from membership import roles

    roles.grant_role_permissions(roles.STAFF, ["webhooks.manage_endpoints"])
