from django.apps import AppConfig
from django.db.models.signals import post_migrate


def grant_equipment_permissions(**kwargs) -> None:
    from membership import roles

    roles.grant_role_permissions(
        roles.STAFF, ["equipment.manage_machines", "equipment.view_problemreport"]
    )


class EquipmentConfig(AppConfig):
    name = "equipment"
    verbose_name = "Equipment"

    def ready(self) -> None:
        from equipment.daypasses import sections
        from equipment.daypasses import services as day_passes
        from equipment.daypasses.selectors import day_pass_openings
        from membership import readiness
        from membership.billing.sections import billing_section_register, staff_section_register

        post_migrate.connect(grant_equipment_permissions, sender=self)
        day_passes.register()
        billing_section_register(sections.billing_day_pass_section)
        staff_section_register(sections.staff_day_pass_section)
        readiness.stand_in_register(lambda member, now: day_pass_openings(member=member, now=now))
