"""Template filters shared by every app's pages."""

from django import template

from core.money import money_format

register = template.Library()


@register.filter
def money(amount_minor: int | None, currency: str = "usd") -> str:
    """`10000|money:"usd"` -> `$100.00`; `10000|money:"krw"` -> `₩10,000` (core.money)."""
    return money_format(amount_minor, currency or "usd")
