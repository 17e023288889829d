from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The staff console: Today, setup screens and reports, reading every app below it."""

    name = "console"
    verbose_name = "Staff console"
