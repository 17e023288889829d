from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _grant_roles(**kwargs: object) -> None:
    from membership import roles

    roles.grant_role_permissions(roles.STAFF, ["api.manage_api_keys"])


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        post_migrate.connect(_grant_roles, sender=self)
