"""The sites framework record follows the settings: allauth's emails and pages say the space's
name and address ("Hello from Toolgate Makerspace"), not django.contrib.sites' example.com."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings


def site_from_settings(**_: Any) -> None:
    """Set Site SITE_ID to SPACE_NAME and SITE_URL's host (run after every migrate)."""
    from django.contrib.sites.models import Site

    domain = urlsplit(settings.SITE_URL).netloc or "localhost"
    Site.objects.update_or_create(
        pk=settings.SITE_ID, defaults={"domain": domain, "name": settings.SPACE_NAME}
    )
    Site.objects.clear_cache()
