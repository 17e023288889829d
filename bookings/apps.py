from django.apps import AppConfig
from django.db.models.signals import post_migrate


def grant_booking_permissions(**kwargs) -> None:
    from membership import roles

    roles.grant_role_permissions(roles.STAFF, ["bookings.manage_bookings", "bookings.view_booking"])


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self) -> None:
        post_migrate.connect(grant_booking_permissions, sender=self)
        from bookings.receivers import tell_booked_members
        from bookings.rule_changes import BookingsUnderNewRules
        from equipment import consequences
        from equipment.signals import machine_out_of_service

        machine_out_of_service.connect(tell_booked_members, dispatch_uid="bookings.out_of_service")
        consequences.install(BookingsUnderNewRules())
