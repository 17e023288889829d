from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class MembershipConfig(AppConfig):
    name = "membership"
    verbose_name = "Membership"

    def ready(self) -> None:
        from membership import roles
        from membership.billing import (
            checks,  # noqa: F401  (registers the system check)
            desk,
            wallet,
        )
        from membership.billing.immutable import sqlite_function_register

        post_migrate.connect(roles.sync_roles_after_migrate, sender=self)
        connection_created.connect(sqlite_function_register)
        desk.register()
        wallet.register()
