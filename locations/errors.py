"""The locations app's domain error: a sentence for the person whose action was refused."""

from __future__ import annotations

from core.errors import DomainError


class LocationError(DomainError):
    """A change to a location or an area that cannot be made, and why."""
