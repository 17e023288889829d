"""Sections apps above membership add to the member's billing page (machine time, say) and to
the member's staff page (selling a day pass at the desk).

An app registers, once at start-up, a function of the member that returns a section (a template
and its context) or None, so the page shows it without membership importing the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from membership.models import Member


@dataclass(frozen=True)
class BillingSection:
    template: str
    context: dict[str, Any]


SectionProvider = Callable[[Member], BillingSection | None]
_providers: list[SectionProvider] = []


def billing_section_register(provider: SectionProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def billing_sections(member: Member) -> list[BillingSection]:
    return [section for provider in _providers if (section := provider(member)) is not None]


_staff_providers: list[SectionProvider] = []


def staff_section_register(provider: SectionProvider) -> None:
    if provider not in _staff_providers:
        _staff_providers.append(provider)


def staff_sections(member: Member) -> list[BillingSection]:
    """The sections of the member's staff page (each with fresh form tokens)."""
    return [section for provider in _staff_providers if (section := provider(member)) is not None]
