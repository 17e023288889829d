"""`manage.py seed_demo`: idempotent demo data from every app, in dependency order."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

TOOLGATE_APPS = [
    "locations",
    "membership",
    "training",
    "equipment",
    "bookings",
    "access",
    "metering",
]


class Command(BaseCommand):
    help = "Create demo members, plans, certifications, machines and bookings (safe to run again)."

    def handle(self, *args, **options) -> None:
        lines: list[str] = []
        with transaction.atomic():
            for label in TOOLGATE_APPS:
                # Each app may ship a `demo.seed()`; importing by name keeps membership free of
                # imports from the apps that build on it.
                if apps.is_installed(label) and find_spec(f"{label}.demo"):
                    lines.extend(import_module(f"{label}.demo").seed() or [])
        for line in lines:
            self.stdout.write(line)
