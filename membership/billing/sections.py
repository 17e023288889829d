"""Sections apps above membership add to the member's billing page (machine time, say).

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
