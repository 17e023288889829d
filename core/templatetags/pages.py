"""Small filters for page furniture: `|squash` makes a block's text one line (page titles)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def squash(value: str) -> str:
    return " ".join(str(value).split())


@register.filter
def index(sequence, position: int):
    """`items|index:2`: the item at a position (a table column's header object)."""
    return sequence[position]


@register.filter
def pair(first, second):
    """`a|pair:b`: pairs of two lists side by side."""
    return list(zip(first, second, strict=False))
