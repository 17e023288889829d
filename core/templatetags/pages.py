"""Small filters for page furniture: `|squash` makes a block's text one line (page titles)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def squash(value: str) -> str:
    return " ".join(str(value).split())
