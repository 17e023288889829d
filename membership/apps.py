from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MembershipConfig(AppConfig):
    name = "membership"
    verbose_name = "Membership"

    def ready(self) -> None:
        from membership import roles

        post_migrate.connect(roles.sync_roles_after_migrate, sender=self)
