from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        from access.gates import SiteGates
        from core import gates

        gates.install(SiteGates())
        post_migrate.connect(grant_gate_permissions, sender=self)


def grant_gate_permissions(**kwargs) -> None:
    from membership import roles

    roles.grant_role_permissions(roles.STAFF, ["access.manage_gates"])
