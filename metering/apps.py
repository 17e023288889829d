from django.apps import AppConfig


class MeteringConfig(AppConfig):
    name = "metering"
    verbose_name = "Metered machine time"

    def ready(self) -> None:
        from membership.billing import sections
        from metering import selectors

        sections.billing_section_register(selectors.billing_usage_section)
